// Metrics: box formats and the IoU family (Boxes.swift), NMS (NMS.swift), COCO evaluation as
// pycocotools (COCODataset.swift, COCOEval.swift), PASCAL VOC AP (VOCEval.swift) and receptive
// fields (ReceptiveField.swift, ReceptiveFieldSpec.swift). Pure Swift, Double throughout.
