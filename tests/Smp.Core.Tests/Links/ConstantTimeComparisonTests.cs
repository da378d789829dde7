using System.Reflection;
using System.Reflection.Emit;
using System.Security.Cryptography;
using Smp.Core.Links;

namespace Smp.Core.Tests.Links;

/// <summary>
/// SPEC section 5: a link's signature is compared in constant time. Timing cannot be asserted reliably in a test
/// suite, so this reads the compiled <see cref="LinkSigner.Verify"/> instead: it must compare with
/// <see cref="CryptographicOperations.FixedTimeEquals"/> and with none of the comparisons that stop at the first
/// difference.
/// </summary>
public class ConstantTimeComparisonTests
{
    private static readonly Dictionary<short, OpCode> OpCodesByValue = typeof(OpCodes)
        .GetFields(BindingFlags.Public | BindingFlags.Static)
        .Select(f => (OpCode)f.GetValue(null)!)
        .ToDictionary(o => o.Value);

    [Fact]
    public void Verify_compares_the_signature_with_FixedTimeEquals()
    {
        var calls = CalledMethods(typeof(LinkSigner).GetMethod(nameof(LinkSigner.Verify))!);

        Assert.Contains(calls, m => m.DeclaringType == typeof(CryptographicOperations) && m.Name == nameof(CryptographicOperations.FixedTimeEquals));
    }

    [Fact]
    public void Verify_uses_no_comparison_that_stops_at_the_first_difference()
    {
        var calls = CalledMethods(typeof(LinkSigner).GetMethod(nameof(LinkSigner.Verify))!);

        Assert.DoesNotContain(calls, m =>
            (m.DeclaringType == typeof(string) && m.Name is "Equals" or "op_Equality" or "Compare" or "CompareOrdinal" or "StartsWith")
            || m.Name == "SequenceEqual"
            || (m.DeclaringType == typeof(MemoryExtensions) && m.Name.Contains("Equal", StringComparison.Ordinal)));
    }

    /// <summary>The methods a method's IL calls, read by walking its instructions.</summary>
    private static List<MethodBase> CalledMethods(MethodInfo method)
    {
        var il = method.GetMethodBody()!.GetILAsByteArray()!;
        var calls = new List<MethodBase>();
        var position = 0;
        while (position < il.Length)
        {
            short value = il[position++];
            if (value == 0xFE)
            {
                value = (short)(0xFE00 | il[position++]);
            }

            var opCode = OpCodesByValue[value];
            var operandSize = OperandSize(opCode.OperandType, il, position);
            if (opCode.OperandType == OperandType.InlineMethod)
            {
                var token = BitConverter.ToInt32(il, position);
                calls.Add(method.Module.ResolveMethod(token, method.DeclaringType!.GetGenericArguments(), method.GetGenericArguments())!);
            }

            position += operandSize;
        }

        return calls;
    }

    private static int OperandSize(OperandType type, byte[] il, int position) => type switch
    {
        OperandType.InlineNone => 0,
        OperandType.ShortInlineBrTarget or OperandType.ShortInlineI or OperandType.ShortInlineVar => 1,
        OperandType.InlineVar => 2,
        OperandType.InlineI8 or OperandType.InlineR => 8,
        OperandType.InlineSwitch => 4 + (4 * BitConverter.ToInt32(il, position)),
        _ => 4,
    };
}
