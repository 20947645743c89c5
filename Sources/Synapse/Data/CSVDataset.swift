import Foundation

/// A problem with a CSV file, in one line naming the file, the line and the column where it is known.
public enum CSVError: Error, CustomStringConvertible, Equatable {
    case emptyFile(path: String)
    case missingColumn(path: String, column: String, available: [String])
    case columnIndexOutOfRange(path: String, index: Int, columns: Int)
    /// `line` is the 1-based line of the file where the record starts (the header is line 1).
    case nonNumeric(path: String, line: Int, column: String, value: String)
    case raggedRow(path: String, line: Int, expected: Int, found: Int)
    case unterminatedQuote(path: String, line: Int)
    /// A class label that the given class mapping does not contain.
    case unknownClass(path: String, line: Int, label: String, known: [String])
    case noFeatureColumns(path: String)
    /// Given standardisation statistics were computed for a different number of features.
    case standardizationMismatch(path: String, statistics: Int, features: Int)

    public var description: String {
        switch self {
        case let .emptyFile(path): return "\(path): empty CSV file, expected a header line and data rows"
        case let .missingColumn(path, column, available):
            return "\(path): no column named '\(column)'; columns are \(available.map { "'\($0)'" }.joined(separator: ", "))"
        case let .columnIndexOutOfRange(path, index, columns):
            return "\(path): column index \(index) out of range, the file has \(columns) columns (0...\(columns - 1))"
        case let .nonNumeric(path, line, column, value):
            return "\(path): line \(line), column '\(column)': '\(value)' is not a finite number"
        case let .raggedRow(path, line, expected, found):
            return "\(path): line \(line) has \(found) fields, the header has \(expected)"
        case let .unterminatedQuote(path, line):
            return "\(path): line \(line): a quoted field is never closed"
        case let .unknownClass(path, line, label, known):
            return "\(path): line \(line): class '\(label)' is not one of \(known.joined(separator: ", "))"
        case let .noFeatureColumns(path): return "\(path): no feature columns besides the target"
        case let .standardizationMismatch(path, statistics, features):
            return "\(path): the standardisation has \(statistics) features but the file has \(features)"
        }
    }
}

/// A CSV file split into a header and records (RFC 4180: quoted fields may hold commas, quotes as `""`, newlines).
///
/// ```swift
/// let table = try CSVTable(contentsOfFile: "iris.csv")
/// table.header        // ["sepal_length", ..., "species"]
/// table.rows[0]       // ["5.1", "3.5", "1.4", "0.2", "setosa"]
/// ```
public struct CSVTable: Sendable {
    public let path: String
    public let header: [String]
    public let rows: [[String]]
    /// The file line on which each row starts (1-based; the header starts on line 1).
    public let lineNumbers: [Int]

    public init(contentsOfFile path: String) throws {
        guard FileManager.default.fileExists(atPath: path) else {
            throw DatasetError.missingFile(name: (path as NSString).lastPathComponent, searched: [path])
        }
        guard let data = FileManager.default.contents(atPath: path) else {
            throw DatasetError.unreadable(path: path, reason: "permission denied or I/O error")
        }
        try self.init(text: String(decoding: data, as: UTF8.self), path: path)
    }

    /// Parses CSV text; `path` names the source in errors. Blank lines are skipped.
    public init(text: String, path: String = "<csv>") throws {
        var records: [[String]] = []
        var lines: [Int] = []
        var fields: [String] = []
        var field: [UInt8] = []
        var inQuotes = false
        var fieldWasQuoted = false
        var line = 1, recordLine = 1
        let bytes = Array(text.utf8)
        var i = bytes.starts(with: [0xef, 0xbb, 0xbf]) ? 3 : 0   // UTF-8 byte-order mark from spreadsheet exports

        func endField() {
            var value = String(decoding: field, as: UTF8.self)
            if !fieldWasQuoted { value = value.trimmingCharacters(in: .whitespaces) }
            fields.append(value)
            field.removeAll(keepingCapacity: true)
            fieldWasQuoted = false
        }
        func endRecord() {
            endField()
            // A line with nothing on it is not a record.
            if !(fields.count == 1 && fields[0].isEmpty) {
                records.append(fields)
                lines.append(recordLine)
            }
            fields.removeAll(keepingCapacity: true)
        }

        while i < bytes.count {
            let b = bytes[i]
            if inQuotes {
                if b == UInt8(ascii: "\"") {
                    if i + 1 < bytes.count && bytes[i + 1] == UInt8(ascii: "\"") { field.append(b); i += 1 }
                    else { inQuotes = false }
                } else {
                    if b == 10 { line += 1 }
                    field.append(b)
                }
            } else if b == UInt8(ascii: "\"") && field.allSatisfy({ $0 == 32 || $0 == 9 }) {
                field.removeAll()
                inQuotes = true
                fieldWasQuoted = true
            } else if b == UInt8(ascii: ",") {
                endField()
            } else if b == 10 || b == 13 {
                endRecord()
                if b == 13 && i + 1 < bytes.count && bytes[i + 1] == 10 { i += 1 }
                line += 1
                recordLine = line
            } else {
                field.append(b)
            }
            i += 1
        }
        if inQuotes { throw CSVError.unterminatedQuote(path: path, line: recordLine) }
        if !field.isEmpty || !fields.isEmpty || fieldWasQuoted { endRecord() }

        guard let header = records.first else { throw CSVError.emptyFile(path: path) }
        for (record, recordLine) in zip(records, lines).dropFirst() where record.count != header.count {
            throw CSVError.raggedRow(path: path, line: recordLine, expected: header.count, found: record.count)
        }
        self.path = path
        self.header = header
        self.rows = Array(records.dropFirst())
        self.lineNumbers = Array(lines.dropFirst())
    }

    /// The index of a column by name (exact match, then case-insensitive).
    public func columnIndex(_ name: String) throws -> Int {
        if let index = header.firstIndex(of: name) { return index }
        if let index = header.firstIndex(where: { $0.caseInsensitiveCompare(name) == .orderedSame }) { return index }
        throw CSVError.missingColumn(path: path, column: name, available: header)
    }
}

/// Per-feature mean and standard deviation, computed on one data set and applied to others (train → test).
///
/// ```swift
/// let stats = Standardization(fitting: train.features)
/// let testInputs = stats.apply(to: testFeatures)       // (x - mean) / std, column by column
/// ```
public struct Standardization: Sendable, Equatable, Codable {
    public let mean: [Float]
    /// Population standard deviation; columns that are constant get 1 so they map to 0 instead of dividing by zero.
    public let std: [Float]

    public init(mean: [Float], std: [Float]) {
        precondition(mean.count == std.count, "Standardization: \(mean.count) means for \(std.count) deviations")
        self.mean = mean
        self.std = std
    }

    /// Statistics of the columns of a `[N, F]` tensor.
    public init(fitting features: Tensor) {
        precondition(features.rank == 2, "Standardization(fitting:): expected [N, F] features, got \(features.shape)")
        let (n, f) = (features.shape[0], features.shape[1])
        var sum = [Double](repeating: 0, count: f), squares = [Double](repeating: 0, count: f)
        features.withUnsafeBufferPointer { x in
            for row in 0..<n {
                for column in 0..<f {
                    let v = Double(x[row * f + column])
                    sum[column] += v
                    squares[column] += v * v
                }
            }
        }
        let count = Double(max(n, 1))
        let mean = sum.map { $0 / count }
        let std = zip(squares, mean).map { squareSum, m -> Float in
            let variance = max(squareSum / count - m * m, 0)
            return variance > 1e-12 ? Float(variance.squareRoot()) : 1
        }
        self.init(mean: mean.map(Float.init), std: std)
    }

    /// `(x - mean) / std` per column of a `[N, F]` tensor.
    public func apply(to features: Tensor) -> Tensor {
        precondition(features.rank == 2 && features.shape[1] == mean.count,
                     "Standardization.apply: expected [N, \(mean.count)] features, got \(features.shape)")
        var out = features
        let f = mean.count
        out.withUnsafeMutableBufferPointer { x in
            for row in 0..<features.shape[0] {
                for column in 0..<f { x[row * f + column] = (x[row * f + column] - mean[column]) / std[column] }
            }
        }
        return out
    }
}

/// A table of numeric features and one target column, read from a CSV file with a header.
///
/// ```swift
/// // Classification: string labels become class indices 0..<k (sorted names; the mapping is kept).
/// let train = try CSVDataset(contentsOfFile: "iris-train.csv", target: .named("species"), task: .classification,
///                            standardize: true)
/// // Apply the training statistics and class mapping to other data:
/// let test = try CSVDataset(contentsOfFile: "iris-test.csv", target: .named("species"), task: .classification,
///                           standardization: train.standardization, classNames: train.classNames)
/// let loader = DataLoader(inputs: train.features, labels: train.labels, batchSize: 16, shuffle: true)
/// ```
public struct CSVDataset: Sendable {
    /// Which column holds the target.
    public enum TargetColumn: Sendable, Equatable {
        case named(String)
        case index(Int)
    }

    public enum Task: Sendable, Equatable {
        /// Target values are class names (any text); `labels` holds their indices.
        case classification
        /// Target values are numbers; `targets` holds them as `[N, 1]`.
        case regression
    }

    public let path: String
    public let featureNames: [String]
    public let targetName: String
    public let task: Task
    /// `[N, F]`, standardised when requested.
    public let features: Tensor
    /// Class indices for `.classification`, empty for `.regression`.
    public let labels: [Int]
    /// `[N, 1]` values for `.regression`, `nil` for `.classification`.
    public let targets: Tensor?
    /// Class index → name for `.classification`, empty for `.regression`.
    public let classNames: [String]
    /// The statistics applied to `features`, or `nil` when they are raw.
    public let standardization: Standardization?

    /// The number of rows.
    public var count: Int { features.shape[0] }

    /// - Parameters:
    ///   - featureColumns: the columns to use as features, in this order; `nil`: every column except the target.
    ///   - standardize: compute mean and standard deviation of each feature on this data and apply them.
    ///   - standardization: apply these statistics instead (e.g. the training set's); overrides `standardize`.
    ///   - classNames: use this class mapping (e.g. the training set's); labels not in it are an error.
    public init(contentsOfFile path: String, target: TargetColumn, task: Task, featureColumns: [String]? = nil,
                standardize: Bool = false, standardization: Standardization? = nil, classNames: [String]? = nil) throws {
        try self.init(table: CSVTable(contentsOfFile: path), target: target, task: task, featureColumns: featureColumns,
                      standardize: standardize, standardization: standardization, classNames: classNames)
    }

    public init(table: CSVTable, target: TargetColumn, task: Task, featureColumns: [String]? = nil,
                standardize: Bool = false, standardization: Standardization? = nil, classNames: [String]? = nil) throws {
        let path = table.path
        let targetIndex: Int
        switch target {
        case .named(let name): targetIndex = try table.columnIndex(name)
        case .index(let index):
            guard table.header.indices.contains(index) else {
                throw CSVError.columnIndexOutOfRange(path: path, index: index, columns: table.header.count)
            }
            targetIndex = index
        }
        let featureIndices = try featureColumns.map { try $0.map(table.columnIndex) }
            ?? table.header.indices.filter { $0 != targetIndex }
        guard !featureIndices.isEmpty else { throw CSVError.noFeatureColumns(path: path) }

        let n = table.rows.count, f = featureIndices.count
        var values = [Float](repeating: 0, count: n * f)
        for (r, row) in table.rows.enumerated() {
            for (c, column) in featureIndices.enumerated() {
                values[r * f + c] = try CSVDataset.number(row[column], path: path, line: table.lineNumbers[r],
                                                          column: table.header[column])
            }
        }
        var features = Tensor(shape: [n, f], scalars: values)
        let stats = standardization ?? (standardize ? Standardization(fitting: features) : nil)
        if let stats {
            guard stats.mean.count == f else {
                throw CSVError.standardizationMismatch(path: path, statistics: stats.mean.count, features: f)
            }
            features = stats.apply(to: features)
        }

        let rawTargets = table.rows.map { $0[targetIndex] }
        switch task {
        case .classification:
            let names = classNames ?? CSVDataset.sortedClassNames(Set(rawTargets))
            let index = Dictionary(uniqueKeysWithValues: names.enumerated().map { ($1, $0) })
            labels = try rawTargets.enumerated().map { r, name in
                guard let label = index[name] else {
                    throw CSVError.unknownClass(path: path, line: table.lineNumbers[r], label: name, known: names)
                }
                return label
            }
            self.classNames = names
            targets = nil
        case .regression:
            let numbers = try rawTargets.enumerated().map { r, text in
                try CSVDataset.number(text, path: path, line: table.lineNumbers[r], column: table.header[targetIndex])
            }
            targets = Tensor(shape: [n, 1], scalars: numbers)
            labels = []
            self.classNames = []
        }
        self.path = path
        self.featureNames = featureIndices.map { table.header[$0] }
        self.targetName = table.header[targetIndex]
        self.task = task
        self.features = features
        self.standardization = stats
    }

    static func number(_ text: String, path: String, line: Int, column: String) throws -> Float {
        guard let value = Float(text), value.isFinite else {
            throw CSVError.nonNumeric(path: path, line: line, column: column, value: text)
        }
        return value
    }

    /// Class names in a stable order: numerically when they are all integers ("2" before "10"), else alphabetically.
    static func sortedClassNames(_ names: Set<String>) -> [String] {
        if names.allSatisfy({ Int($0) != nil }) { return names.sorted { Int($0)! < Int($1)! } }
        return names.sorted()
    }
}
