namespace Smp.Core;
internal static class Placeholder { }
