namespace Smp.Azure;
internal static class Placeholder { }
