import Foundation
import Testing
@testable import Synapse

@Suite("Byte-level BPE (against llama.cpp's tokenizer)", .synapseRuntime)
struct BPETokenizerTests {
    @Test func pieceSplittingFollowsGPT2sPattern() {
        func split(_ s: String) -> [String] {
            let scalars = Array(s.unicodeScalars)
            return BPETokenizer.gpt2Split(scalars, 0..<scalars.count).map { String(String.UnicodeScalarView(scalars[$0])) }
        }
        #expect(split("Hello world") == ["Hello", " world"])
        #expect(split("it's 42!") == ["it", "'s", " 42", "!"])
        #expect(split("a   b") == ["a", "  ", " b"])        // \s+(?!\S) leaves the last space to the word
        #expect(split("end  ") == ["end", "  "])
        #expect(split("x\n\ny") == ["x", "\n", "\n", "y"])   // a newline does not stick to a word as a space does
        #expect(split(" ?!") == [" ?!"])
    }

    @Test func byteAlphabetIsGPT2s() {
        #expect(BPETokenizer.byteToScalar[32] == "Ġ")
        #expect(BPETokenizer.byteToScalar[10] == "Ċ")
        #expect(BPETokenizer.byteToScalar[65] == "A")
        #expect(Set(BPETokenizer.byteToScalar).count == 256)
    }

    @Test func streamingDecoderHoldsBackSplitCharacters() {
        var stream = UTF8StreamDecoder()
        let smile = Array("😀".utf8), e = Array("é".utf8)
        #expect(stream.append(Array(smile[0..<2])) == "")
        #expect(stream.append(Array(smile[2...]) + [UInt8(ascii: "a")] + [e[0]]) == "😀a")
        #expect(stream.append([e[1]]) == "é")
        #expect(stream.append([0xFF]) == "\u{FFFD}")
        #expect(stream.append([0xE2, 0x82]) == "")
        #expect(stream.finish() == "\u{FFFD}")
    }

    @Test func chatTemplatesRender() throws {
        let chatML = ChatTemplate(style: .chatML(defaultSystem: "Be kind."))
        #expect(chatML.render([ChatMessage(role: "user", content: "Hi")], addGenerationPrompt: true)
                == "<|im_start|>system\nBe kind.<|im_end|>\n<|im_start|>user\nHi<|im_end|>\n<|im_start|>assistant\n")
        #expect(chatML.render([ChatMessage(role: "system", content: "S"), ChatMessage(role: "user", content: "U")], addGenerationPrompt: false)
                == "<|im_start|>system\nS<|im_end|>\n<|im_start|>user\nU<|im_end|>\n")
        #expect(throws: ChatTemplate.Error.self) { _ = try ChatTemplate(source: "{{ bos_token }}[INST] {{ message }} [/INST]") }
    }

    @Test(.enabled(if: SmolLM2File.available, SmolLM2File.skipMessage))
    func idsEqualLlamaCppsOnTheFixtureStrings() throws {
        let (gguf, _, _) = try #require(SmolLM2File.model)
        let tokenizer = try BPETokenizer(gguf: gguf)
        #expect(tokenizer.vocabularySize == 49152)
        #expect(tokenizer.preTokenizer == .digitsThenGPT2)
        let cases = try Fixtures.json("llm/tokenizer.json")["cases"] as! [[String: Any]]
        #expect(cases.count >= 200)
        var mismatches: [String] = []
        for c in cases {
            let text = c["text"] as! String
            let expected = (c["ids"] as! [NSNumber]).map(\.intValue)
            let ids = tokenizer.encode(text)
            if ids != expected { mismatches.append("\(text.debugDescription): \(ids) vs llama.cpp \(expected)") }
            // Decoding gives the text back (control tokens rendered as written).
            #expect(tokenizer.decode(ids, renderSpecial: true) == text, "\(text.debugDescription) does not round-trip")
        }
        #expect(mismatches.isEmpty, "\(mismatches.count) of \(cases.count) differ:\n\(mismatches.prefix(10).joined(separator: "\n"))")
        // The real template renders the fixture's chat prompt exactly.
        let template = try ChatTemplate(source: try gguf.string("tokenizer.chat_template"))
        #expect(template.style == .chatML(defaultSystem: "You are a helpful AI assistant named SmolLM, trained by Hugging Face"))
        let fixture = try Fixtures.json("llm/smollm2.json")
        let first = (fixture["prompts"] as! [[String: Any]])[0]
        #expect(template.render([ChatMessage(role: "user", content: "What is the capital of France?")], addGenerationPrompt: true)
                == first["text"] as! String)
    }
}
