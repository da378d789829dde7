using System.Collections;
using Azure.Data.Tables;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Smp.Azure.Tables;

// dotnet run --project src/Smp.Migrations -- license-layout [Smp:Tables=...] [Smp:TablePrefix=...]
// dotnet run --project src/Smp.Migrations -- search-layout [Smp:Tables=...] [Smp:TablePrefix=...]
//
// Settings are the app's: Smp:Tables (a connection string, or Smp:Tables:serviceUri with an identity) or else
// AzureWebJobsStorage, and Smp:TablePrefix; from environment variables (Smp__Tables, ...) or KEY=VALUE arguments.
const string Usage = "Usage: dotnet run --project src/Smp.Migrations -- license-layout|search-layout [Smp:Tables=...] [Smp:TablePrefix=...]";

if (args.Length == 0 || args[0] is not ("license-layout" or "search-layout"))
{
    Console.Error.WriteLine(Usage);
    return 2;
}

var settings = new Dictionary<string, string?>(StringComparer.OrdinalIgnoreCase);
foreach (DictionaryEntry variable in Environment.GetEnvironmentVariables())
{
    settings[((string)variable.Key).Replace("__", ":", StringComparison.Ordinal)] = (string?)variable.Value;
}

foreach (var arg in args.Skip(1))
{
    var equals = arg.IndexOf('=', StringComparison.Ordinal);
    if (equals <= 0)
    {
        Console.Error.WriteLine(Usage);
        return 2;
    }

    settings[arg[..equals].TrimStart('-').Replace("__", ":", StringComparison.Ordinal)] = arg[(equals + 1)..];
}

var configuration = new ConfigurationBuilder().AddInMemoryCollection(settings).Build();
using var services = new ServiceCollection().AddSmpTableStorage(configuration).BuildServiceProvider();
var prefix = TableStorageServiceCollectionExtensions.TablePrefix(configuration);
using var cancel = new CancellationTokenSource();
Console.CancelKeyPress += (_, e) =>
{
    e.Cancel = true;
    cancel.Cancel();
};

if (args[0] == "search-layout")
{
    var indexTable = prefix + "licenseindex";
    var searchMove = new SearchLayoutMigration(services.GetRequiredService<TableServiceClient>(), prefix + "licenses", indexTable);
    Console.Error.WriteLine($"Writing every license's search rows in one partition of table {indexTable}; safe to stop and run again.");
    var rebuilt = await searchMove.RebuildAsync(Progress(100, "licenses done"), cancel.Token);
    Console.Error.WriteLine($"Search rows written for {rebuilt} licenses; deleting the first layout's search rows; safe to stop and run again.");
    var deleted = await searchMove.RunAsync(Progress(1000, "rows deleted"), cancel.Token);
    Console.WriteLine($"Done: {deleted} search rows of the first layout deleted from table {indexTable}.");
    return 0;
}

var table = prefix + "licenses";
Console.Error.WriteLine($"Moving the licenses of table {table} to layout {LicenseLayoutMigration.CurrentLayout}; safe to stop and run again.");
var migration = new LicenseLayoutMigration(services.GetRequiredService<TableServiceClient>(), table);
var moved = await migration.RunAsync(Progress(1000, "licenses moved"), cancel.Token);
Console.WriteLine($"Done: {moved} licenses moved; table {table} records layout {LicenseLayoutMigration.CurrentLayout}.");
return 0;

// Tells the running count on standard error each time it passes another multiple of every.
static Action<int> Progress(int every, string what)
{
    var told = 0;
    return count =>
    {
        if (count / every > told)
        {
            told = count / every;
            Console.Error.WriteLine($"{count} {what} so far");
        }
    };
}
