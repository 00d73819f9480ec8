namespace CrossModal.Tensors.Kernels;

/// <summary>The element-wise operations of <see cref="Broadcasting"/>.</summary>
public enum BinaryOperation
{
    /// <summary>a + b.</summary>
    Add,

    /// <summary>a - b.</summary>
    Subtract,

    /// <summary>a * b.</summary>
    Multiply,

    /// <summary>a / b.</summary>
    Divide,
}
