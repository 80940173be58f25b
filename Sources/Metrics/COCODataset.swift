// COCO-format ground truth and detection results for bounding-box evaluation.
//
// Ground truth: {"images": [{"id"}], "categories": [{"id", "name"?}], "annotations": [{"id",
// "image_id", "category_id", "bbox": [x, y, w, h], "area"?, "iscrowd"?, "difficult"?}]}.
// Detections: [{"image_id", "category_id", "bbox": [x, y, w, h], "score"}], as pycocotools'
// `loadRes` reads them (ids are assigned 1, 2, … in file order and area = w·h).

import Foundation
import JSON

/// A malformed COCO file; the description is one line naming the field or index at fault.
public struct COCOFormatError: Error, Equatable, CustomStringConvertible {
    /// JSON path of the culprit, e.g. `annotations[3].bbox` or `[12].image_id` for detections.
    public var path: String
    /// What is wrong there, e.g. "unknown image id 7" or "missing field".
    public var problem: String

    /// A failure described by `problem` at `path`.
    public init(path: String, problem: String) {
        self.path = path
        self.problem = problem
    }

    /// "path: problem", or the problem alone when `path` is empty.
    public var description: String { path.isEmpty ? problem : "\(path): \(problem)" }
}

/// An entry of a ground truth's `images`; only its id matters for box evaluation.
public struct COCOImage: Equatable, Sendable {
    /// The image's `id`, which annotations and detections refer to as `image_id`.
    public var id: Int
    /// An image with the given `id`.
    public init(id: Int) { self.id = id }
}

/// An entry of a ground truth's `categories`.
public struct COCOCategory: Equatable, Sendable {
    /// The category's `id`, which annotations and detections refer to as `category_id`.
    public var id: Int
    /// The category's `name`, for per-class reports; the id as text when the file gives none.
    public var name: String
    /// A category with the given `id` and `name`.
    public init(id: Int, name: String) {
        self.id = id
        self.name = name
    }
}

/// A ground-truth box. `bbox` is COCO's (x, y, w, h); `area` is the annotation's own `area`
/// field (the segment area in real COCO), which is what decides small/medium/large.
public struct COCOAnnotation: Equatable, Sendable {
    /// The annotation's `id`, unique within the file.
    public var id: Int
    /// The `image_id` of the image it lies in.
    public var imageID: Int
    /// The `category_id` of its class.
    public var categoryID: Int
    /// The box as (x, y, w, h): top-left corner, width and height in pixels.
    public var bbox: SIMD4<Double>
    /// The area that decides the small/medium/large ranges, in square pixels.
    public var area: Double
    /// COCO's `iscrowd`: a region of many objects; detections matched to it are neither true nor false positives.
    public var isCrowd: Bool
    /// VOC's `difficult` flag; ignored by COCO evaluation.
    public var isDifficult: Bool

    /// A ground-truth box; the ground truth's initialiser validates it.
    ///
    /// - Parameters:
    ///   - id: The annotation's id, unique within the ground truth.
    ///   - imageID: The image it lies in.
    ///   - categoryID: Its class.
    ///   - bbox: (x, y, w, h) in pixels.
    ///   - area: The annotation's `area` field; nil for w·h.
    ///   - isCrowd: COCO's `iscrowd`.
    ///   - isDifficult: VOC's `difficult`.
    public init(
        id: Int, imageID: Int, categoryID: Int, bbox: SIMD4<Double>, area: Double? = nil,
        isCrowd: Bool = false, isDifficult: Bool = false
    ) {
        self.id = id
        self.imageID = imageID
        self.categoryID = categoryID
        self.bbox = bbox
        self.area = area ?? bbox[2] * bbox[3]
        self.isCrowd = isCrowd
        self.isDifficult = isDifficult
    }
}

/// A detection result. `id` is its 1-based position in the results file, as `loadRes` numbers it.
public struct COCODetection: Equatable, Sendable {
    /// 1-based position in the results file.
    public var id: Int
    /// The `image_id` of the image it was made on.
    public var imageID: Int
    /// The `category_id` of the predicted class.
    public var categoryID: Int
    /// The box as (x, y, w, h): top-left corner, width and height in pixels.
    public var bbox: SIMD4<Double>
    /// Confidence; higher scores are matched first and rank first in the precision/recall curve.
    public var score: Double
    /// w·h of the box (`loadRes` overwrites any given area with this).
    public var area: Double { bbox[2] * bbox[3] }

    /// A detection as `loadRes` stores it.
    ///
    /// - Parameters:
    ///   - id: 1-based position in the results file.
    ///   - imageID: The image it was made on.
    ///   - categoryID: The predicted class.
    ///   - bbox: (x, y, w, h) in pixels.
    ///   - score: Confidence.
    public init(id: Int, imageID: Int, categoryID: Int, bbox: SIMD4<Double>, score: Double) {
        self.id = id
        self.imageID = imageID
        self.categoryID = categoryID
        self.bbox = bbox
        self.score = score
    }
}

/// A ground-truth file: images, categories and box annotations.
public struct COCOGroundTruth: Equatable, Sendable {
    /// The images, in file order.
    public var images: [COCOImage]
    /// The categories, in file order.
    public var categories: [COCOCategory]
    /// The ground-truth boxes, in file order.
    public var annotations: [COCOAnnotation]

    /// Checks what pycocotools would trip over (or silently mis-evaluate): negative sizes,
    /// annotations pointing at unknown images or categories, repeated annotation ids.
    public init(images: [COCOImage], categories: [COCOCategory], annotations: [COCOAnnotation]) throws {
        self.images = images
        self.categories = categories
        self.annotations = annotations
        let imageIDs = Set(images.map(\.id))
        let categoryIDs = Set(categories.map(\.id))
        var annotationIDs = Set<Int>()
        for (i, annotation) in annotations.enumerated() {
            let path = "annotations[\(i)]"
            try checkBoxSize(annotation.bbox, at: "\(path).bbox")
            guard annotation.area >= 0 else {
                throw COCOFormatError(path: "\(path).area", problem: "negative area \(annotation.area)")
            }
            guard imageIDs.contains(annotation.imageID) else {
                throw COCOFormatError(path: "\(path).image_id", problem: "unknown image id \(annotation.imageID)")
            }
            guard categoryIDs.contains(annotation.categoryID) else {
                throw COCOFormatError(
                    path: "\(path).category_id",
                    problem: "unknown category id \(annotation.categoryID)")
            }
            // pycocotools indexes annotations by id; a repeated id would silently replace another box.
            guard annotationIDs.insert(annotation.id).inserted else {
                throw COCOFormatError(path: "\(path).id", problem: "duplicate annotation id \(annotation.id)")
            }
        }
    }

    /// Parses a COCO ground-truth JSON document.
    public init(jsonData: Data) throws {
        try self.init(root: try parseCOCOJSON(jsonData))
    }

    /// Reads and parses the COCO ground-truth JSON file at `url`; throws the file system's error when it cannot
    /// be read, and `COCOFormatError` when it is malformed.
    public init(contentsOf url: URL) throws {
        try self.init(jsonData: try Data(contentsOf: url))
    }

    private init(root: JSONValue) throws {
        let (images, categories, annotations) = try rethrowingShapeErrors {
            let top = try root.object(at: "(top level)")
            let images = try top.required("images", in: "").array(at: "images").enumerated().map { i, value in
                let path = "images[\(i)]"
                return COCOImage(id: try value.object(at: path).required("id", in: path).integer(at: "\(path).id"))
            }
            let categories = try top.required("categories", in: "").array(at: "categories").enumerated().map {
                i, value in
                let path = "categories[\(i)]"
                let object = try value.object(at: path)
                let id = try object.required("id", in: path).integer(at: "\(path).id")
                let name = try object["name"].map { try $0.string(at: "\(path).name") } ?? String(id)
                return COCOCategory(id: id, name: name)
            }
            let annotations = try top.required("annotations", in: "").array(at: "annotations").enumerated().map {
                i, value in
                let path = "annotations[\(i)]"
                let object = try value.object(at: path)
                return COCOAnnotation(
                    id: try object.required("id", in: path).integer(at: "\(path).id"),
                    imageID: try object.required("image_id", in: path).integer(at: "\(path).image_id"),
                    categoryID: try object.required("category_id", in: path).integer(at: "\(path).category_id"),
                    bbox: try parseBBox(object.required("bbox", in: path), at: "\(path).bbox"),
                    area: try object["area"].map { try $0.number(at: "\(path).area") },
                    isCrowd: try object["iscrowd"].map { try $0.flag(at: "\(path).iscrowd") } ?? false,
                    isDifficult: try object["difficult"].map { try $0.flag(at: "\(path).difficult") } ?? false)
            }
            return (images, categories, annotations)
        }
        try self.init(images: images, categories: categories, annotations: annotations)
    }

    /// Parses a detection results file (a JSON array) against this ground truth. Detections on
    /// images absent from the ground truth are an error (pycocotools asserts); detections of
    /// categories absent from it are kept but never evaluated, as in pycocotools.
    public func detections(jsonData: Data) throws -> [COCODetection] {
        let root = try parseCOCOJSON(jsonData)
        let imageIDs = Set(images.map(\.id))
        return try rethrowingShapeErrors {
            try root.array(at: "(top level)").enumerated().map { i, value in
                let path = "[\(i)]"
                let object = try value.object(at: path)
                let detection = COCODetection(
                    id: i + 1,
                    imageID: try object.required("image_id", in: path).integer(at: "\(path).image_id"),
                    categoryID: try object.required("category_id", in: path).integer(at: "\(path).category_id"),
                    bbox: try parseBBox(object.required("bbox", in: path), at: "\(path).bbox"),
                    score: try object.required("score", in: path).number(at: "\(path).score"))
                try checkBoxSize(detection.bbox, at: "\(path).bbox")
                guard imageIDs.contains(detection.imageID) else {
                    throw COCOFormatError(
                        path: "\(path).image_id",
                        problem: "unknown image id \(detection.imageID) (not in the ground truth)")
                }
                return detection
            }
        }
    }

    /// Reads the detection results file at `url` and parses it as `detections(jsonData:)` does; throws the
    /// file system's error when it cannot be read, and `COCOFormatError` when it is malformed.
    public func detections(contentsOf url: URL) throws -> [COCODetection] {
        try detections(jsonData: try Data(contentsOf: url))
    }
}

private func parseCOCOJSON(_ data: Data) throws -> JSONValue {
    try rethrowingShapeErrors { try JSONValue.parse(data) }
}

private func rethrowingShapeErrors<T>(_ body: () throws -> T) throws -> T {
    do {
        return try body()
    } catch let error as JSONShapeError {
        throw COCOFormatError(path: error.path, problem: error.problem)
    }
}

private func parseBBox(_ value: JSONValue, at path: String) throws -> SIMD4<Double> {
    let items = try value.array(at: path)
    guard items.count == 4 else {
        throw JSONShapeError(path: path, problem: "expected 4 numbers [x, y, w, h], got \(items.count)")
    }
    return SIMD4(
        try items[0].number(at: "\(path)[0]"), try items[1].number(at: "\(path)[1]"),
        try items[2].number(at: "\(path)[2]"), try items[3].number(at: "\(path)[3]"))
}

private func checkBoxSize(_ bbox: SIMD4<Double>, at path: String) throws {
    guard bbox[2] >= 0, bbox[3] >= 0 else {
        throw COCOFormatError(path: path, problem: "negative width or height (w \(bbox[2]), h \(bbox[3]))")
    }
}
