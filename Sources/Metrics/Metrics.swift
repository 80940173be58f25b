// Metrics: box formats and the IoU family (Boxes.swift), NMS (NMS.swift), COCO evaluation as
// pycocotools (COCODataset.swift, COCOEval.swift) and PASCAL VOC AP (VOCEval.swift). Pure Swift, Double
// throughout. Receptive fields have their own target, ReceptiveFields.
