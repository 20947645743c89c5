import Foundation
import Testing
@testable import Synapse

@Suite(.synapseRuntime) struct CSVTableTests {
    @Test func quotedFieldsWithCommasQuotesAndNewlines() throws {
        let text = "name,comment,value\r\n\"Smith, J\",\"said \"\"hi\"\"\",1\r\n\n plain , \"two\nlines\",2\n"
        let table = try CSVTable(text: text, path: "q.csv")
        #expect(table.header == ["name", "comment", "value"])
        #expect(table.rows == [["Smith, J", "said \"hi\"", "1"], ["plain", "two\nlines", "2"]])
        #expect(table.lineNumbers == [2, 4])
    }

    @Test func lastLineWithoutNewlineAndByteOrderMark() throws {
        let table = try CSVTable(text: "\u{FEFF}a,b\n1,2", path: "x")
        #expect(table.header == ["a", "b"])
        #expect(table.rows == [["1", "2"]])
        let emptyLast = try CSVTable(text: "a,b\n1,\"\"", path: "x")
        #expect(emptyLast.rows == [["1", ""]])
    }

    @Test func errors() {
        #expect(throws: CSVError.emptyFile(path: "e.csv")) { try CSVTable(text: "\n\n", path: "e.csv") }
        #expect(throws: CSVError.raggedRow(path: "r.csv", line: 3, expected: 3, found: 2)) {
            try CSVTable(text: "a,b,c\n1,2,3\n4,5\n", path: "r.csv")
        }
        #expect(throws: CSVError.unterminatedQuote(path: "u.csv", line: 2)) { try CSVTable(text: "a,b\n\"1,2\n3,4\n", path: "u.csv") }
        #expect("\(CSVError.raggedRow(path: "r.csv", line: 3, expected: 3, found: 2))" == "r.csv: line 3 has 2 fields, the header has 3")
    }

    @Test func missingFile() {
        #expect(throws: DatasetError.self) { try CSVTable(contentsOfFile: "/nonexistent/data.csv") }
    }
}

@Suite(.synapseRuntime) struct CSVDatasetTests {
    let iris = """
    sepal_length,sepal_width,species
    5.1,3.5,setosa
    7.0,3.2,versicolor
    6.3,3.3,virginica
    4.9,3.0,setosa
    """

    @Test func classificationMapsSortedNamesToIndices() throws {
        let data = try CSVDataset(table: CSVTable(text: iris, path: "iris.csv"), target: .named("species"), task: .classification)
        #expect(data.classNames == ["setosa", "versicolor", "virginica"])
        #expect(data.labels == [0, 1, 2, 0])
        #expect(data.featureNames == ["sepal_length", "sepal_width"])
        #expect(data.features.shape == [4, 2])
        #expect(data.features[1, 0] == 7.0)
        #expect(data.targets == nil)
        #expect(data.standardization == nil)
    }

    @Test func integerClassNamesSortNumerically() {
        #expect(CSVDataset.sortedClassNames(["10", "2", "1"]) == ["1", "2", "10"])
    }

    @Test func regressionByIndexWithChosenFeatures() throws {
        let table = try CSVTable(text: "x,y,noise\n1,2,9\n2,4.5,9\n", path: "r.csv")
        let data = try CSVDataset(table: table, target: .index(1), task: .regression, featureColumns: ["x"])
        #expect(data.targetName == "y")
        #expect(data.targets?.shape == [2, 1])
        #expect(data.targets?.scalars == [2, 4.5])
        #expect(data.features.scalars == [1, 2])
        #expect(data.labels.isEmpty)
    }

    @Test func standardisationIsFittedAndReusable() throws {
        let train = try CSVDataset(table: CSVTable(text: "a,b,t\n1,5,0\n3,5,1\n5,5,0\n", path: "train.csv"),
                                   target: .named("t"), task: .classification, standardize: true)
        let stats = try #require(train.standardization)
        #expect(stats.mean == [3, 5])
        #expect(abs(stats.std[0] - (8.0 / 3.0).squareRoot()) < 1e-6)
        #expect(stats.std[1] == 1)                     // constant column: no division by zero
        #expect(abs(train.features[0, 0] + 1.2247449) < 1e-5 && train.features[0, 1] == 0)
        let test = try CSVDataset(table: CSVTable(text: "a,b,t\n3,6,1\n", path: "test.csv"), target: .named("t"),
                                  task: .classification, standardization: stats, classNames: train.classNames)
        #expect(test.features.scalars == [0, 1])
        #expect(test.labels == [1])
        let encoded = try JSONEncoder().encode(stats)
        #expect(try JSONDecoder().decode(Standardization.self, from: encoded) == stats)
    }

    @Test func errorsNameTheFileLineAndColumn() throws {
        let table = try CSVTable(text: iris, path: "iris.csv")
        #expect(throws: CSVError.missingColumn(path: "iris.csv", column: "label", available: ["sepal_length", "sepal_width", "species"])) {
            try CSVDataset(table: table, target: .named("label"), task: .classification)
        }
        #expect(throws: CSVError.columnIndexOutOfRange(path: "iris.csv", index: 5, columns: 3)) {
            try CSVDataset(table: table, target: .index(5), task: .classification)
        }
        #expect(throws: CSVError.nonNumeric(path: "iris.csv", line: 2, column: "species", value: "setosa")) {
            try CSVDataset(table: table, target: .index(0), task: .regression)
        }
        let bad = try CSVTable(text: "a,t\n1,0\n,1\nnan,0\n", path: "bad.csv")
        #expect(throws: CSVError.nonNumeric(path: "bad.csv", line: 3, column: "a", value: "")) {
            try CSVDataset(table: bad, target: .named("t"), task: .classification)
        }
        #expect("\(CSVError.nonNumeric(path: "bad.csv", line: 3, column: "a", value: "x"))" == "bad.csv: line 3, column 'a': 'x' is not a finite number")
        #expect(throws: CSVError.unknownClass(path: "iris.csv", line: 3, label: "versicolor", known: ["setosa", "virginica"])) {
            try CSVDataset(table: table, target: .named("species"), task: .classification, classNames: ["setosa", "virginica"])
        }
        #expect(throws: CSVError.noFeatureColumns(path: "one.csv")) {
            try CSVDataset(table: CSVTable(text: "t\n1\n", path: "one.csv"), target: .named("t"), task: .regression)
        }
    }

    @Test func readsFromFile() throws {
        let dir = TemporaryDirectory()
        let path = dir.write("iris.csv", text: iris)
        let data = try CSVDataset(contentsOfFile: path, target: .named("Species"), task: .classification)
        #expect(data.count == 4)
        #expect(data.path == path)
    }
}
