using System.Reflection;
using System.Security.Claims;
using System.Text;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Mvc.Abstractions;
using Microsoft.AspNetCore.Routing;
using Microsoft.AspNetCore.Routing.Template;
using Microsoft.Azure.Functions.Worker;
using Microsoft.Azure.Functions.Worker.Middleware;
using Microsoft.Extensions.DependencyInjection;
using NSubstitute;
using Smp.Functions.Functions;
using Smp.Functions.Hosting;

namespace Smp.Functions.Tests.Console;

/// <summary>
/// Serves the console's HTTP functions of the real app (an <see cref="ApiHarness"/>) the way the Functions host does:
/// the request's route is matched against each function's declared route and method, the function is created from
/// the app's container, runs inside the app's worker middleware, and its result is executed with the app's services.
/// Used in process (<see cref="SendAsync"/>) and behind Kestrel for the browser tests.
/// </summary>
public sealed class ConsoleApp(ApiHarness api)
{
    private static readonly IReadOnlyList<Endpoint> Endpoints = Discover();

    public ApiHarness Api => api;

    /// <summary>Answers one request on <paramref name="http"/>; false when no console function serves it.</summary>
    public async Task<bool> HandleAsync(HttpContext http)
    {
        ArgumentNullException.ThrowIfNull(http);
        http.RequestServices = api.Services;
        foreach (var endpoint in Endpoints)
        {
            var values = new RouteValueDictionary();
            if (!string.Equals(endpoint.Method, http.Request.Method, StringComparison.OrdinalIgnoreCase) || !endpoint.Matcher.TryMatch(http.Request.Path, values))
            {
                continue;
            }

            var context = ApiHarness.Context(endpoint.Name);
            context.Items.Returns(new Dictionary<object, object> { ["HttpRequestContext"] = http });
            context.InstanceServices.Returns(api.Services);
            IActionResult? result = null;
            var recorder = new MiddlewareRecorder();
            recorder.UseSmpMiddleware();
            FunctionExecutionDelegate pipeline = async c => result = await InvokeAsync(endpoint, http.Request, values, c);
            for (var i = recorder.Middleware.Count - 1; i >= 0; i--)
            {
                pipeline = recorder.Middleware[i](pipeline);
            }

            await pipeline(context);
            if (result is not null)
            {
                await result.ExecuteResultAsync(new ActionContext(http, new RouteData(), new ActionDescriptor()));
            }

            return true;
        }

        return false;
    }

    /// <summary>One request in process, as a browser would send it; the answer as it went on the wire.</summary>
    public async Task<ApiResponse> SendAsync(string method, string pathAndQuery, IReadOnlyDictionary<string, string>? form = null, IReadOnlyDictionary<string, string>? headers = null)
    {
        var http = new DefaultHttpContext();
        var split = pathAndQuery.Split('?', 2);
        http.Request.Method = method;
        http.Request.Path = split[0];
        http.Request.Host = new HostString("smp.example.com");
        http.Request.Scheme = "https";
        if (split.Length == 2)
        {
            http.Request.QueryString = new QueryString("?" + split[1]);
        }

        foreach (var (name, value) in headers ?? new Dictionary<string, string>())
        {
            http.Request.Headers[name] = value;
        }

        if (form is not null)
        {
            var bytes = Encoding.UTF8.GetBytes(string.Join("&", form.Select(f => Uri.EscapeDataString(f.Key) + "=" + Uri.EscapeDataString(f.Value))));
            http.Request.Body = new MemoryStream(bytes);
            http.Request.ContentLength = bytes.Length;
            http.Request.ContentType = "application/x-www-form-urlencoded";
        }

        http.Response.Body = new MemoryStream();
        http.User = new ClaimsPrincipal(new ClaimsIdentity());
        Assert.True(await HandleAsync(http), $"No console function serves {method} {pathAndQuery}.");
        http.Response.Body.Position = 0;
        var text = await new StreamReader(http.Response.Body).ReadToEndAsync();
        return new ApiResponse(http.Response.StatusCode, http.Response.ContentType, http.Response.Headers, text);
    }

    /// <summary>Every console function's route and method.</summary>
    public static IReadOnlyList<(string Name, string Method, string Route)> Routes() =>
        [.. Endpoints.Select(e => (e.Name, e.Method, e.Route))];

    private async Task<IActionResult> InvokeAsync(Endpoint endpoint, HttpRequest request, RouteValueDictionary values, FunctionContext context)
    {
        var target = endpoint.Method_.IsStatic ? null : ActivatorUtilities.CreateInstance(api.Services, endpoint.Method_.DeclaringType!);
        var arguments = endpoint.Method_.GetParameters().Select(p =>
            p.ParameterType == typeof(HttpRequest) ? request
            : p.ParameterType == typeof(FunctionContext) ? context
            : (object?)values[p.Name!]?.ToString()).ToArray();
        return endpoint.Method_.Invoke(target, arguments) switch
        {
            Task<IActionResult> task => await task,
            IActionResult result => result,
            var other => throw new InvalidOperationException($"{endpoint.Name} returned {other}."),
        };
    }

    private static List<Endpoint> Discover() =>
        [.. from type in typeof(ConsoleFunctions).Assembly.GetTypes()
            from method in type.GetMethods(BindingFlags.Public | BindingFlags.Instance | BindingFlags.Static | BindingFlags.DeclaredOnly)
            let function = method.GetCustomAttribute<FunctionAttribute>()
            where function is not null && function.Name.StartsWith(ConsoleFunctions.NamePrefix, StringComparison.Ordinal)
            let trigger = method.GetParameters().Select(p => p.GetCustomAttribute<HttpTriggerAttribute>()).Single(t => t is not null)!
            from verb in trigger.Methods!
            select new Endpoint(function.Name, verb.ToUpperInvariant(), trigger.Route!, method, new TemplateMatcher(TemplateParser.Parse(trigger.Route!), new RouteValueDictionary()))];

    private sealed record Endpoint(string Name, string Method, string Route, MethodInfo Method_, TemplateMatcher Matcher);
}
