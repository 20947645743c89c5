// swift-tools-version:6.1
import PackageDescription

// On Apple platforms BLAS comes from Accelerate; elsewhere from OpenBLAS through the CBLAS shim.
let blasDependency: [Target.Dependency] = [.target(name: "CBLAS", condition: .when(platforms: [.linux, .windows, .android]))]

let package = Package(
    name: "Synapse",
    platforms: [.macOS(.v14)],
    products: [
        .library(name: "Synapse", targets: ["Synapse"]),
        .executable(name: "synapse", targets: ["SynapseCLI"]),
    ],
    // Off by default, so that a machine without MPI builds and runs everything else; scripts/swift-traits turns it
    // on where Open MPI is installed (DEVELOPERS.md, "Why MPI is a trait").
    traits: [
        .trait(name: "MPI", description: "Distributed data-parallel training over MPI (`synapse train … --distributed`); needs libopenmpi-dev"),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.5.0"),
        // The HTTP server behind `synapse serve` (SynapseServer only); its optional swift-configuration support is off.
        .package(url: "https://github.com/hummingbird-project/hummingbird", from: "2.28.1", traits: []),
        .package(url: "https://github.com/swift-server/swift-prometheus", from: "2.4.1"),
    ],
    targets: [
        .systemLibrary(name: "CBLAS", path: "Sources/CBLAS", pkgConfig: "openblas",
                       providers: [.apt(["libopenblas-dev"])]),
        .systemLibrary(name: "CZlib", path: "Sources/CZlib", pkgConfig: "zlib",
                       providers: [.apt(["zlib1g-dev"]), .brew(["zlib"])]),
        .systemLibrary(name: "CPNG", path: "Sources/CPNG", pkgConfig: "libpng",
                       providers: [.apt(["libpng-dev"]), .brew(["libpng"])]),
        // MPI_COMM_WORLD and friends are macros: the shim hands them over as functions.
        .systemLibrary(name: "CMPI", path: "Sources/CMPI", pkgConfig: "ompi-c",
                       providers: [.apt(["libopenmpi-dev", "openmpi-bin"]), .brew(["open-mpi"])]),
        // The few kernels that need an instruction set chosen per function (AVX-512 VNNI int8 products).
        .target(name: "CSynapseKernels"),
        .target(name: "Synapse", dependencies: blasDependency + ["CZlib", "CPNG", "CSynapseKernels"]),
        // `Communicator` over MPI; the library itself knows only the protocol.
        .target(name: "SynapseMPI", dependencies: ["Synapse", "CMPI"]),
        // The workloads behind `synapse bench`: they reach the library only through its public API.
        .target(name: "SynapseBenchmarks", dependencies: ["Synapse"] + blasDependency),
        // `synapse serve`: models over HTTP (OpenAI's API shapes, a classifier API, the drawing page), on Hummingbird.
        .target(name: "SynapseServer", dependencies: [
            "Synapse",
            .product(name: "Hummingbird", package: "hummingbird"),
            .product(name: "Prometheus", package: "swift-prometheus"),
        ], exclude: ["Page"]),
        .executableTarget(name: "SynapseCLI", dependencies: [
            "Synapse", "SynapseBenchmarks", "SynapseServer",
            .target(name: "SynapseMPI", condition: .when(traits: ["MPI"])),
            .product(name: "ArgumentParser", package: "swift-argument-parser"),
        ]),
        .testTarget(name: "SynapseTests", dependencies: ["Synapse"], resources: [.copy("Fixtures")]),
        .testTarget(name: "SynapseServerTests", dependencies: [
            "SynapseServer", "Synapse",
            .product(name: "HummingbirdTesting", package: "hummingbird"),
        ]),
    ]
)

// The libFuzzer harnesses exist only in a fuzzing build (scripts/fuzz.sh sets SYNAPSE_FUZZ=1 and builds with
// -sanitize=fuzzer): libFuzzer supplies their `main`, so an ordinary build could not link them.
if Context.environment["SYNAPSE_FUZZ"] == "1" {
    package.products.append(.executable(name: "synapse-fuzz", targets: ["SynapseFuzz"]))
    package.targets.append(.executableTarget(name: "SynapseFuzz", dependencies: ["Synapse"], path: "Fuzz",
                                             swiftSettings: [.unsafeFlags(["-parse-as-library"])]))
}
