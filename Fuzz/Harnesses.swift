import Foundation
import Synapse

/// One parser of outside data as libFuzzer drives it: any bytes must give a value or a thrown error, never a trap, a
/// hang or an allocation out of proportion to the input. `run` goes through the same public entry point the CLI uses
/// (a file path where the CLI reads a file), so what is fuzzed is what a user reaches.
struct Harness: Sendable {
    let name: String
    let summary: String
    let run: @Sendable ([UInt8]) -> Void
    /// Valid inputs to start from, made by the library's own writers (or taken from the test fixtures).
    let seeds: @Sendable () throws -> [(name: String, bytes: [UInt8])]
}

/// A per-process scratch directory on tmpfs where the harnesses put inputs that the library reads by path.
enum Scratch {
    static let directory: URL = {
        let base = FileManager.default.fileExists(atPath: "/dev/shm") ? "/dev/shm" : NSTemporaryDirectory()
        let url = URL(fileURLWithPath: base).appendingPathComponent("synapse-fuzz-\(getpid())")
        try? FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
        return url
    }()

    /// Writes `bytes` to `name` in the scratch directory (plain, not atomic: speed matters and nothing else reads it).
    static func file(_ name: String, _ bytes: [UInt8]) -> URL {
        let url = directory.appendingPathComponent(name)
        _ = FileManager.default.createFile(atPath: url.path, contents: Data(bytes))
        return url
    }

    static func folder(_ name: String, files: [String: [UInt8]]) -> URL {
        let url = directory.appendingPathComponent(name)
        try? FileManager.default.removeItem(at: url)
        try? FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
        for (file, bytes) in files {
            _ = FileManager.default.createFile(atPath: url.appendingPathComponent(file).path, contents: Data(bytes))
        }
        return url
    }
}

/// Splits one fuzz input into two files at the first `\n===\n` (graph nodes/edges, CSV train/test).
func split(_ bytes: [UInt8]) -> ([UInt8], [UInt8]) {
    let marker = Array("\n===\n".utf8)
    guard bytes.count >= marker.count else { return (bytes, []) }
    for start in 0...(bytes.count - marker.count) where bytes[start..<(start + marker.count)].elementsEqual(marker) {
        return (Array(bytes[..<start]), Array(bytes[(start + marker.count)...]))
    }
    return (bytes, [])
}

func joined(_ first: String, _ second: String) -> [UInt8] { Array((first + "\n===\n" + second).utf8) }

/// Test fixtures used as seeds (the fuzz script runs from the repository root).
func fixture(_ path: String) throws -> [UInt8] {
    [UInt8](try Data(contentsOf: URL(fileURLWithPath: "Tests/SynapseTests/Fixtures/" + path)))
}

let harnesses: [Harness] = [
    Harness(name: "safetensors", summary: "the safetensors container: header JSON, dtypes, shapes, offsets",
            run: { bytes in
                guard let file = try? SafeTensorsFile(bytes: bytes) else { return }
                for name in file.tensors.keys.sorted() { _ = try? file.floatTensor(name) }
                _ = file.serialized()
            },
            seeds: {
                var generator = RandomGenerator(seed: 1)
                let small = SafeTensorsFile(floatTensors: ["w": Tensor.randn([3, 4], generator: &generator),
                                                           "b": Tensor.zeros([4])], metadata: ["k": "v"])
                let half = SafeTensorsFile(floatTensors: ["h": Tensor.randn([2, 2], generator: &generator)], dtype: .f16)
                return [("small.safetensors", small.serialized()), ("half.safetensors", half.serialized()),
                        ("python.safetensors", try fixture("python_written.safetensors"))]
            }),
    Harness(name: "modelfile", summary: "model files: metadata keys, architecture, vocabulary JSON, widths, tensor shapes",
            run: { bytes in
                let url = Scratch.file("model.safetensors", bytes)
                _ = try? ClassifierFile.load(from: url)
                _ = try? AutoencoderFile.load(from: url)
                _ = try? LanguageModelFile.load(from: url)
                _ = try? PolicyFile.load(from: url, for: .cartpole)
            },
            seeds: {
                var generator = RandomGenerator(seed: 2)
                let folder = Scratch.directory.appendingPathComponent("seeds")
                try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
                func saved(_ name: String, _ write: (URL) throws -> Void) throws -> (String, [UInt8]) {
                    let url = folder.appendingPathComponent(name)
                    try write(url)
                    return (name, [UInt8](try Data(contentsOf: url)))
                }
                let tokenizer = CharacterTokenizer(corpus: "abc de\n")
                return [
                    try saved("classifier.safetensors") {
                        try ClassifierFile.save(MNISTArchitecture.seed.makeModel(generator: &generator),
                                                architecture: .seed, dataset: .digits, to: $0)
                    },
                    try saved("autoencoder.safetensors") {
                        try AutoencoderFile.save(Autoencoder(sizes: [784, 4], generator: &generator), dataset: .digits,
                                                 threshold: 0.5, to: $0)
                    },
                    try saved("gpt.safetensors") {
                        let gpt = GPT(GPTConfiguration(vocabularySize: tokenizer.vocabularySize, blockSize: 4, layers: 1,
                                                       heads: 1, embedding: 4), generator: &generator)
                        try LanguageModelFile.save(gpt, tokenizer: tokenizer, to: $0)
                    },
                    try saved("lstm.safetensors") {
                        let lstm = RecurrentLanguageModel(.init(kind: .lstm, vocabularySize: tokenizer.vocabularySize,
                                                                embeddingSize: 3, hiddenSize: 4), generator: &generator)
                        try LanguageModelFile.save(lstm, tokenizer: tokenizer, to: $0)
                    },
                    try saved("policy.safetensors") {
                        try PolicyFile.save(ActorCritic(observationSize: 4, actionCount: 2, hidden: [4], generator: &generator),
                                            environment: .cartpole, algorithm: "ppo", to: $0)
                    },
                ]
            }),
    Harness(name: "idx", summary: "IDX files, raw or gzip-compressed (MNIST's format)",
            run: { bytes in
                let url = Scratch.file("data.idx", bytes)
                guard let idx = try? IDXArray(contentsOfFile: url.path) else { return }
                idx.withUnsafeElements { elements in _ = elements.reduce(0) { $0 &+ Int($1) } }
            },
            seeds: {
                let images = IDXArray.encode(dimensions: [2, 3, 3], elements: (0..<18).map { UInt8($0 * 14) })
                let labels = IDXArray.encode(dimensions: [2], elements: [7, 1])
                let folder = Scratch.directory.appendingPathComponent("seeds")
                try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
                let raw = folder.appendingPathComponent("images.idx")
                try Data(images).write(to: raw)
                let gzip = Process()
                gzip.executableURL = URL(fileURLWithPath: "/bin/gzip")
                gzip.arguments = ["-kf", raw.path]
                try gzip.run()
                gzip.waitUntilExit()
                let compressed = [UInt8](try Data(contentsOf: raw.appendingPathExtension("gz")))
                return [("images.idx", images), ("labels.idx", labels), ("images.idx.gz", compressed)]
            }),
    Harness(name: "image", summary: "images for predict: PNG (libpng) and PGM (P2/P5), then the MNIST preparation",
            run: { bytes in
                let url = Scratch.file("input.img", bytes)
                guard let image = try? GrayImage(contentsOfFile: url.path) else { return }
                _ = image.preparedLikeMNIST()
            },
            seeds: {
                let folder = Scratch.directory.appendingPathComponent("seeds")
                try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
                let digit = GrayImage(width: 6, height: 5, pixels: (0..<30).map { Float($0 % 7) / 6 })
                let png = folder.appendingPathComponent("digit.png")
                try digit.writePNG(to: png.path)
                let p2 = Array("P2\n# a comment\n3 2\n255\n0 128 255\n255 128 0\n".utf8)
                let p5 = Array("P5 2 2 255\n".utf8) + [0, 90, 180, 255]
                return [("digit.png", [UInt8](try Data(contentsOf: png))), ("ascii.pgm", p2), ("binary.pgm", p5)]
            }),
    Harness(name: "csv", summary: "tabular CSV for train csv: header, quoting, numbers, class names, standardisation",
            run: { bytes in
                let (train, test) = split(bytes)
                guard let text = String(validating: train, as: UTF8.self),
                      let table = try? CSVTable(text: text, path: "train.csv") else { return }
                for task in [CSVDataset.Task.classification, .regression] {
                    guard let fit = try? CSVDataset(table: table, target: .index(table.header.count - 1), task: task,
                                                    standardize: true) else { continue }
                    guard let other = String(validating: test, as: UTF8.self),
                          let otherTable = try? CSVTable(text: other, path: "test.csv") else { continue }
                    _ = try? CSVDataset(table: otherTable, target: .named(fit.targetName), task: task,
                                        featureColumns: fit.featureNames, standardization: fit.standardization,
                                        classNames: task == .classification ? fit.classNames : nil)
                }
            },
            seeds: {
                [("iris.csv", joined("sepal,petal,\"species, latin\"\n5.1,1.4,setosa\n6.2,4.5,versicolor\n",
                                     "sepal,petal,\"species, latin\"\n5.0,1.3,setosa\n")),
                 ("regression.csv", joined("x,y\n1,2.5\n-3e2,4\n", "x,y\n0.5,1\n"))]
            }),
    Harness(name: "graph", summary: "graph CSVs for train gcn: nodes (ids, features, labels) and edges",
            run: { bytes in
                let (nodes, edges) = split(bytes)
                let folder = Scratch.folder("graph", files: ["nodes.csv": nodes, "edges.csv": edges])
                guard let graph = try? Graph(directory: folder.path) else { return }
                _ = graph.normalizedAdjacency()
            },
            seeds: {
                [("karate.csv", joined("id,f1,f2,label\na,1,0,x\nb,0,1,y\nc,0.5,0.5,\n", "source,target\na,b\nb,c\n")),
                 ("nofeatures.csv", joined("id,label\n1,0\n2,1\n3,\n", "source,target\n1,2\n2,3\n3,1\n"))]
            }),
    Harness(name: "config", summary: "a Hugging Face BERT folder: config.json (strict JSON, sizes) and vocab.txt",
            run: { bytes in
                let (config, vocab) = split(bytes)
                let folder = Scratch.folder("bert", files: ["config.json": config, "vocab.txt": vocab])
                guard let configuration = try? HuggingFaceBERT.configuration(folder: folder) else { return }
                _ = try? HuggingFaceBERT.loadTokenizer(folder: folder, configuration: configuration)
            },
            seeds: {
                let config = """
                {"architectures": ["BertModel"], "hidden_size": 8, "num_hidden_layers": 1, "num_attention_heads": 2,
                 "intermediate_size": 16, "max_position_embeddings": 16, "vocab_size": 6, "type_vocab_size": 2,
                 "layer_norm_eps": 1e-12, "hidden_act": "gelu", "do_lower_case": true}
                """
                return [("minilm.json", joined(config, "[PAD]\n[UNK]\n[CLS]\n[SEP]\nhello\n##s\n"))]
            }),
    Harness(name: "vocab", summary: "WordPiece vocab.txt, then tokenising text with it",
            run: { bytes in
                let (vocab, text) = split(bytes)
                let url = Scratch.file("vocab.txt", vocab)
                guard let tokenizer = try? WordPieceTokenizer(vocabularyFile: url) else { return }
                _ = tokenizer.encode("Hello, wörld! unaffable 日本語")
                _ = tokenizer.encode(String(decoding: text, as: UTF8.self))
            },
            seeds: {
                [("vocab.txt", joined("[PAD]\n[UNK]\n[CLS]\n[SEP]\nhello\n,\n!\nun\n##aff\n##able\n", "unaffable hello!")),
                 ("crlf.txt", joined("[PAD]\r\n[UNK]\r\n[CLS]\r\n[SEP]\r\nw\r\n##ö\r\n", "wö"))]
            }),
    Harness(name: "expression", summary: "the scalar engine's expression and bindings parser, then backward",
            run: { bytes in
                let (expression, bindings) = split(bytes)
                let variables = (try? ExpressionParser.parseBindings(String(decoding: bindings, as: UTF8.self))) ?? [:]
                guard let parsed = try? ExpressionParser.parse(String(decoding: expression, as: UTF8.self),
                                                               variables: variables) else { return }
                parsed.output.backward()
            },
            seeds: {
                [("neuron.txt", Array("tanh(w1*x1 + w2*x2 + b)\n===\nw1=-3, x1=2, w2=1, x2=0, b=6.88".utf8)),
                 ("power.txt", Array("-a^2 ** 0.5 / relu(exp(a) - log(b)) + sigmoid(-b)\n===\na=1.5,b=2e-1".utf8))]
            }),
    Harness(name: "gguf", summary: "GGUF as llama.cpp writes it: metadata, tensor table, tokenizer, chat template, model",
            run: { bytes in
                let url = Scratch.file("model.gguf", bytes)
                guard let gguf = try? GGUFFile(path: url.path) else { return }
                for value in gguf.metadata.values { _ = value.abbreviated() }
                if let tokenizer = try? BPETokenizer(gguf: gguf) {
                    let ids = tokenizer.encode("Hello <|im_start|>user 123 héllo\n\n  !")
                    _ = tokenizer.decode(ids)
                }
                if let source = try? gguf.string("tokenizer.chat_template"),
                   let template = try? ChatTemplate(source: source) {
                    _ = template.render([ChatMessage(role: "user", content: "hi")], addGenerationPrompt: true)
                }
                _ = try? QuantizedLlama(gguf: gguf, threads: 1)
            },
            seeds: { [("tiny_llama.gguf", try fixture("llm/tiny_llama.gguf")), ("blocks.gguf", try fixture("llm/blocks.gguf"))] }),
    Harness(name: "chat-template", summary: "Jinja chat templates read from GGUF metadata, then rendering",
            run: { bytes in
                guard let template = try? ChatTemplate(source: String(decoding: bytes, as: UTF8.self)) else { return }
                _ = template.render([ChatMessage(role: "system", content: "be brief"),
                                     ChatMessage(role: "user", content: "hi {{ x }}")], addGenerationPrompt: true)
            },
            seeds: {
                [("chatml.jinja", Array("""
                {% for message in messages %}{% if loop.first and messages[0]['role'] != 'system' %}{{ '<|im_start|>system\nYou are a helpful AI assistant named SmolLM, trained by Hugging Face<|im_end|>\n' }}{% endif %}{{'<|im_start|>' + message['role'] + '\n' + message['content'] + '<|im_end|>' + '\n'}}{% endfor %}{% if add_generation_prompt %}{{ '<|im_start|>assistant\n' }}{% endif %}
                """.utf8))]
            }),
    Harness(name: "text", summary: "a training corpus and a character vocabulary in JSON",
            run: { bytes in
                let (corpus, vocabulary) = split(bytes)
                let url = Scratch.file("corpus.txt", corpus)
                _ = try? TextDataset(contentsOf: url, blockLength: 8)
                _ = try? CharacterTokenizer(vocabularyJSON: String(decoding: vocabulary, as: UTF8.self), source: "fuzz")
            },
            seeds: {
                [("corpus.txt", joined("First Citizen:\nBefore we proceed any further, hear me speak.\n",
                                       CharacterTokenizer(corpus: "abc\n é").vocabularyJSON))]
            }),
    Harness(name: "chat-data", summary: "JSONL chat data for finetune: lines, JSON, messages, roles, then the template's pieces",
            run: { bytes in
                let url = Scratch.file("chat.jsonl", bytes)
                guard let examples = try? ChatData.read(url) else { return }
                let template = ChatTemplate(style: .chatML(defaultSystem: "You are helpful."))
                for example in examples.prefix(64) { _ = template.segments(example.messages, addGenerationPrompt: false) }
            },
            seeds: {
                [("train.jsonl", Array(#"""
                {"messages": [{"role": "user", "content": "What is the capital of Veloria?"}, {"role": "assistant", "content": "The capital of Veloria is Marrowick."}]}
                {"messages": [{"role": "system", "content": "Be brief."}, {"role": "user", "content": "Hi \u00e9\n"}, {"role": "assistant", "content": ""}], "id": 7}
                """#.utf8))]
            }),
    Harness(name: "lora-adapter", summary: "PEFT adapter folders: adapter_config.json, then adapter_model.safetensors against a model",
            run: { bytes in
                let (config, weights) = split(bytes)
                let folder = Scratch.folder("adapter", files: ["adapter_config.json": config, "adapter_model.safetensors": weights])
                guard let gguf = try? GGUFFile(path: "Tests/SynapseTests/Fixtures/finetune/tiny_llama.gguf"),
                      let configuration = try? LlamaConfiguration(gguf: gguf),
                      let lora = try? LoRAAdapterFile.load(folder, model: configuration) else { return }
                guard let model = try? QuantizedLlama(gguf: gguf, threads: 1, adapter: lora) else { return }
                _ = model.forward([1, 2, 3], cache: model.makeCache(capacity: 8))
            },
            seeds: {
                [("peft.bin", try fixture("finetune/peft_adapter/adapter_config.json") + Array("\n===\n".utf8)
                    + fixture("finetune/peft_adapter/adapter_model.safetensors"))]
            }),
]
