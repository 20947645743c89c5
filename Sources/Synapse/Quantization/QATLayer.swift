/// What the quantization-aware layers (`QATLinear`, `QATConv2d`) share: in the forward pass the weight is
/// fake-quantized per output channel (absmax) and the input per tensor (zero point, from a running min/max), so
/// training sees the rounding the int8 layer will do; gradients go straight through (`Tensor.fakeQuantized`).
///
/// The state dict has `weight` and `bias` as in the float layer, plus the observed input range as buffers
/// `input_min` and `input_max` ([1] each).
public class QATLayer: Module {
    public var weight: Tensor
    public var bias: Tensor?
    /// The running input range ([1] each), updated in training mode.
    public var inputMinimum: Tensor
    public var inputMaximum: Tensor
    public var momentum: Float

    public override class var stateKeyOverrides: [String: String] { ["inputMinimum": "input_min", "inputMaximum": "input_max"] }

    /// Wraps a float layer's parameters (shared, not copied: the original layer trains too).
    init(weight: Tensor, bias: Tensor?, momentum: Float) {
        (self.weight, self.bias, self.momentum) = (weight, bias, momentum)
        inputMinimum = Tensor([Float.infinity])
        inputMaximum = Tensor([-Float.infinity])
        super.init()
    }

    public override func members() -> ModuleMembers {
        var members = ModuleMembers.weightAndBias(weight, bias)
        members.tensors += [("input_min", inputMinimum), ("input_max", inputMaximum)]
        return members
    }

    /// The observed input range (nil before the first training batch).
    public var observedRange: (minimum: Float, maximum: Float)? {
        let (low, high) = (inputMinimum.scalars[0], inputMaximum.scalars[0])
        return low <= high ? (low, high) : nil
    }

    /// The static input quantization the exported layer will use (dynamic before any training batch).
    public var inputQuantization: ActivationQuantization {
        guard let (low, high) = observedRange else { return .dynamic }
        let (scale, zeroPoint) = Int8Scheme.zeroPoint.parameters(minimum: low, maximum: high)
        return .static(scale: scale, zeroPoint: zeroPoint, scheme: .zeroPoint)
    }

    /// Updates the running range in training mode (in place, in the buffers), then fake-quantizes the input with it.
    func observedAndFakeQuantized(_ input: Tensor) -> Tensor {
        if isTraining && input.count > 0 {
            let (low, high) = input.withUnsafeBufferPointer { Int8Kernels.range($0.baseAddress!, count: $0.count) }
            var observer = MovingMinMax(momentum: momentum)
            if let (oldLow, oldHigh) = observedRange { observer.set(minimum: oldLow, maximum: oldHigh) }
            observer.update(minimum: low, maximum: high)
            inputMinimum.withSharedMutableStorage { $0[0] = observer.minimum }
            inputMaximum.withSharedMutableStorage { $0[0] = observer.maximum }
        }
        guard case let .static(scale, zeroPoint, scheme) = inputQuantization else { return input }
        return input.fakeQuantized(scales: [scale], zeroPoints: [zeroPoint], scheme: scheme)
    }

    /// The weight rounded per output channel (rows of axis 0) on the absmax grid, gradient straight through.
    var fakeQuantizedWeight: Tensor {
        let scales = Self.channelScales(of: weight)
        return weight.fakeQuantized(scales: scales, zeroPoints: [Int32](repeating: 0, count: scales.count), scheme: .absmax)
    }

    /// The weight as int8 codes, per output channel on the absmax grid: what the exported layer multiplies by.
    var quantizedWeight: QuantizedTensor {
        let w = weight.detached()
        let scales = Self.channelScales(of: w)
        return QuantizedTensor(w, scales: scales, zeroPoints: [Int32](repeating: 0, count: scales.count), scheme: .absmax)
    }

    static func channelScales(of weight: Tensor) -> [Float] {
        let n = weight.shape[0], k = weight.count / Swift.max(n, 1)
        return weight.withUnsafeBufferPointer { w in
            (0..<n).map { o in
                let (low, high) = Int8Kernels.range(w.baseAddress! + o * k, count: k)
                return Int8Scheme.absmax.parameters(minimum: low, maximum: high).scale
            }
        }
    }

    /// The int8 layer and its row of the export report; each subclass returns its own quantized layer.
    func exported(name: String) -> (layer: Module, report: QuantizedModel.LayerReport) {
        preconditionFailure("QATLayer.exported: \(type(of: self)) must override it")
    }
}
