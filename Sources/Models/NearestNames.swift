/// Up to `limit` of `candidates` closest to `name` by edit distance (or containing it): the "did you mean"
/// of every unknown-name error.
public func nearestNames(to name: String, among candidates: [String], limit: Int = 3) -> [String] {
    let query = name.lowercased()
    let scored = candidates.map { candidate -> (String, Int) in
        let distance = editDistance(query, candidate)
        return (candidate, candidate.contains(query) ? min(distance, 1) : distance)
    }
    let threshold = max(3, query.count / 3)
    return scored.filter { $0.1 <= threshold }.sorted { ($0.1, $0.0) < ($1.1, $1.0) }.prefix(limit).map(\.0)
}

/// Levenshtein distance.
func editDistance(_ a: String, _ b: String) -> Int {
    let a = Array(a)
    let b = Array(b)
    guard !a.isEmpty else { return b.count }
    guard !b.isEmpty else { return a.count }
    var previous = Array(0...b.count)
    var current = [Int](repeating: 0, count: b.count + 1)
    for i in 1...a.count {
        current[0] = i
        for j in 1...b.count {
            current[j] = min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + (a[i - 1] == b[j - 1] ? 0 : 1))
        }
        swap(&previous, &current)
    }
    return previous[b.count]
}
