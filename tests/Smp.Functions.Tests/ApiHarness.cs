using System.Net.Mime;
using System.Security.Claims;
using System.Text;
using System.Text.Json;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Mvc.Abstractions;
using Microsoft.AspNetCore.Routing;
using Microsoft.Azure.Functions.Worker;
using Microsoft.Azure.Functions.Worker.Middleware;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using NodaTime;
using NodaTime.Testing;
using NSubstitute;
using Smp.Functions.Hosting;

namespace Smp.Functions.Tests;

/// <summary>
/// The real Functions app (the composition root Program.cs uses), built without running, with its
/// clock fixed and its tables in Azurite. Functions are created the way the worker creates them and
/// their results are executed against the app's own services, so the status, headers and JSON body
/// are the ones the host would send.
/// </summary>
public sealed class ApiHarness : IDisposable
{
    private readonly IHost _host;

    /// <param name="services">Replaces or decorates the app's services (applied last, so its registrations win).</param>
    public ApiHarness(string tablesConnectionString, Instant now, IDictionary<string, string?>? settings = null, Action<IServiceCollection>? services = null)
    {
        Clock = new FakeClock(now);
        var configuration = new Dictionary<string, string?>
        {
            ["Smp:BusinessTimeZone"] = "America/Denver",
            ["Smp:Tables"] = tablesConnectionString,
            ["Smp:TablePrefix"] = UniqueTablePrefix(),
            ["Smp:PublicBaseUrl"] = "https://smp.example.com",
            ["Smp:SenderAddress"] = "DoNotReply@smp.example.com",
            ["Smp:ReminderSchedule"] = "0 0 13 * * *",
            ["Smp:DigestSchedule"] = "0 0 14 * * 1",
            ["Smp:RenewalsDeskEmail"] = "renewals@vendor.example.com",
            ["Smp:Secrets:Store"] = "Local",
            ["Smp:Secrets:LocalDirectory"] = Path.Combine(WorkDirectory, "secrets"),
            ["Smp:Email:Transport"] = "Pickup",
            ["Smp:Email:PickupDirectory"] = Path.Combine(WorkDirectory, "mail"),
        };
        foreach (var (key, value) in settings ?? new Dictionary<string, string?>())
        {
            configuration[key] = value;
        }

        TablePrefix = configuration["Smp:TablePrefix"] ?? string.Empty;
        var builder = SmpHost.CreateBuilder([], c => c.AddInMemoryCollection(configuration));
        builder.Services.AddSingleton<IClock>(Clock);
        services?.Invoke(builder.Services);
        builder.ConfigureContainer(new DefaultServiceProviderFactory(new ServiceProviderOptions { ValidateOnBuild = true, ValidateScopes = true }));
        _host = builder.Build();
    }

    public FakeClock Clock { get; }

    /// <summary>The prefix of every table this harness's app uses (<c>Smp:TablePrefix</c>).</summary>
    public string TablePrefix { get; }

    /// <summary>A folder of this harness's own for local secrets and picked-up mail; removed on dispose.</summary>
    public string WorkDirectory { get; } = Directory.CreateTempSubdirectory("smp-test-").FullName;

    /// <summary>Each harness gets its own tables in the shared Azurite, so tests never see each other's data.</summary>
    public static string UniqueTablePrefix() => "t" + Guid.NewGuid().ToString("N")[..12];

    public IServiceProvider Services => _host.Services;

    public T Function<T>() => ActivatorUtilities.CreateInstance<T>(_host.Services);

    /// <summary>An HTTP request as the ASP.NET Core integration hands it to a function.</summary>
    public HttpRequest Request(string method, string path, string? body = null, string? query = null, string? contentType = MediaTypeNames.Application.Json)
    {
        var context = new DefaultHttpContext { RequestServices = _host.Services };
        context.Request.Method = method;
        context.Request.Path = path;
        if (query is not null)
        {
            context.Request.QueryString = new QueryString(query.StartsWith('?') ? query : "?" + query);
        }

        if (body is not null)
        {
            var bytes = Encoding.UTF8.GetBytes(body);
            context.Request.Body = new MemoryStream(bytes);
            context.Request.ContentLength = bytes.Length;
            context.Request.ContentType = contentType;
        }

        context.Response.Body = new MemoryStream();
        context.User = new ClaimsPrincipal(new ClaimsIdentity());
        return context.Request;
    }

    public static FunctionContext Context(string functionName)
    {
        var definition = Substitute.For<FunctionDefinition>();
        definition.Name.Returns(functionName);
        var context = Substitute.For<FunctionContext>();
        context.FunctionDefinition.Returns(definition);
        context.InvocationId.Returns(Guid.NewGuid().ToString());
        context.CancellationToken.Returns(CancellationToken.None);
        return context;
    }

    /// <summary>
    /// Runs <paramref name="call"/> as the host runs the function named <paramref name="function"/>: inside the app's
    /// worker middleware (<see cref="SmpHost.UseSmpMiddleware"/>, the same list the app registers), then executes its
    /// result unless a middleware answered instead, and reads back what went on the wire.
    /// </summary>
    public async Task<ApiResponse> InvokeAsync(HttpRequest request, string function, Func<FunctionContext, Task<IActionResult>> call)
    {
        var context = Context(function);
        context.Items.Returns(new Dictionary<object, object> { ["HttpRequestContext"] = request.HttpContext });
        context.InstanceServices.Returns(_host.Services);
        IActionResult? result = null;
        System.Runtime.ExceptionServices.ExceptionDispatchInfo? crash = null;
        var recorder = new MiddlewareRecorder();
        recorder.UseSmpMiddleware();
        FunctionExecutionDelegate pipeline = async c =>
        {
            try
            {
                result = await call(c);
            }
            catch (SimulatedCrashException ex)
            {
                // A simulated crash ends the process: no middleware gets to answer, so the test sees it as it happened.
                crash = System.Runtime.ExceptionServices.ExceptionDispatchInfo.Capture(ex);
                throw;
            }
        };
        for (var i = recorder.Middleware.Count - 1; i >= 0; i--)
        {
            pipeline = recorder.Middleware[i](pipeline);
        }

        await pipeline(context);
        crash?.Throw();
        if (result is not null)
        {
            return await ExecuteAsync(request, result);
        }

        request.HttpContext.Response.Body.Position = 0;
        var text = await new StreamReader(request.HttpContext.Response.Body).ReadToEndAsync();
        return new ApiResponse(request.HttpContext.Response.StatusCode, request.HttpContext.Response.ContentType, request.HttpContext.Response.Headers, text);
    }

    /// <summary><see cref="InvokeAsync(HttpRequest, string, Func{FunctionContext, Task{IActionResult}})"/> for a function that answers at once.</summary>
    public Task<ApiResponse> InvokeAsync(HttpRequest request, string function, Func<IActionResult> call) =>
        InvokeAsync(request, function, _ => Task.FromResult(call()));

    /// <summary>
    /// Executes a function's result as the host would and reads back what went on the wire; fails when the answer is
    /// not one the OpenAPI document describes (see <see cref="OpenApiContract"/>).
    /// </summary>
    public static async Task<ApiResponse> ExecuteAsync(HttpRequest request, IActionResult result)
    {
        var http = request.HttpContext;
        await result.ExecuteResultAsync(new ActionContext(http, new RouteData(), new ActionDescriptor()));
        http.Response.Body.Position = 0;
        var text = await new StreamReader(http.Response.Body).ReadToEndAsync();
        var response = new ApiResponse(http.Response.StatusCode, http.Response.ContentType, http.Response.Headers, text);

        // Every answer a test receives is held to the OpenAPI document: its route, status, media type and schema.
        OpenApiContract.Check(http.Request.Method, http.Request.Path, response);
        return response;
    }

    public void Dispose()
    {
        _host.Dispose();
        try
        {
            Directory.Delete(WorkDirectory, recursive: true);
        }
        catch (IOException)
        {
            // A file still open by a background writer; the temp folder is the system's to clean.
        }
    }
}

/// <summary>Records the middleware the app registers, in order; the services it adds are the app's already.</summary>
internal sealed class MiddlewareRecorder : IFunctionsWorkerApplicationBuilder
{
    public IServiceCollection Services { get; } = new ServiceCollection();

    public List<Func<FunctionExecutionDelegate, FunctionExecutionDelegate>> Middleware { get; } = [];

    public IFunctionsWorkerApplicationBuilder Use(Func<FunctionExecutionDelegate, FunctionExecutionDelegate> middleware)
    {
        Middleware.Add(middleware);
        return this;
    }
}

public sealed record ApiResponse(int Status, string? ContentType, IHeaderDictionary Headers, string Body)
{
    /// <summary>The content type without parameters such as the charset.</summary>
    public string? MediaType => ContentType?.Split(';')[0].Trim();

    public JsonElement Json()
    {
        using var document = JsonDocument.Parse(Body);
        return document.RootElement.Clone();
    }

    public override string ToString() => $"{Status} {ContentType}: {Body}";
}
