import Foundation

/// How `synapse serve` listens and what it allows.
public struct ServerConfiguration: Sendable {
    public var host = "127.0.0.1"
    public var port = 8080
    /// Required as a Bearer token on every request but `/`, `/health` and the page's own files, when set.
    public var apiKey: String?
    /// Binding to an address other than loopback without an API key needs this to be said explicitly.
    public var allowNoAuth = false
    /// Larger request bodies are refused (413) before they are read further.
    public var maximumBodyBytes = 8 << 20
    /// The most `max_tokens` a request may ask for.
    public var maximumTokens = 2048
    /// `max_tokens` when a chat request gives none (a completion's default is OpenAI's 16).
    public var defaultChatTokens = 512
    /// Prompts longer than this many tokens are refused (400), whatever the model's context.
    public var maximumPromptTokens = 4096
    /// A request that has not finished after this long ends (generation stops; the answer is what was generated).
    public var requestTimeout: TimeInterval = 300
    /// Generation streams decoded together; further requests wait in a queue of `queueLimit`, then get 429.
    public var maximumStreams = 8
    public var queueLimit = 32
    /// Inputs in one embeddings request, and characters in each.
    public var maximumEmbeddingInputs = 256
    public var maximumInputCharacters = 100_000

    public init() {}

    public var isLoopback: Bool { ["127.0.0.1", "localhost", "::1"].contains(host) }

    /// Why this configuration may not start, if it may not.
    public var problem: String? {
        if !(1...65535).contains(port) && port != 0 { return "--port \(port) is not a TCP port (1...65535, or 0 for any free one)" }
        if !isLoopback && apiKey == nil && !allowNoAuth {
            return "binding to \(host) makes the server reachable from other machines: give --api-key KEY (clients send it as a Bearer token), or --no-auth to serve without one"
        }
        if let key = apiKey, key.count < 8 { return "--api-key must be at least 8 characters" }
        if maximumStreams < 1 || queueLimit < 0 { return "--streams must be at least 1 and --queue at least 0" }
        return nil
    }
}
