namespace Smp.Functions.Http;

/// <summary>The console's one stylesheet, embedded in the app (<c>console.css</c>).</summary>
public static class ConsoleStyles
{
    public static string Text { get; } = Read();

    private static string Read()
    {
        using var stream = typeof(ConsoleStyles).Assembly.GetManifestResourceStream("Smp.Functions.console.css")
            ?? throw new InvalidOperationException("The console stylesheet is missing from the build.");
        using var reader = new StreamReader(stream);
        return reader.ReadToEnd();
    }
}
