using System.Text;
using System.Text.Json;
using Azure.Data.Tables;
using Microsoft.AspNetCore.Http;
using Xunit.Sdk;

namespace Smp.Functions.Tests.Fuzzing;

/// <summary>
/// Sends generated requests to one route of one harness and checks the properties every answer must keep:
/// <list type="number">
/// <item>no exception escapes the function or its result, and no 5xx (while storage is up);</item>
/// <item>every 4xx is an RFC 9457 problem document (400s with per-field errors);</item>
/// <item>a 4xx stores nothing: the harness's tables hold the same rows with the same ETags;</item>
/// <item>every 2xx is a JSON body (a 201 with a Location), or what else the route's <see cref="FuzzRoute.Success"/> allows;</item>
/// <item>an input the contract refuses is a 400, an input it accepts is never a 400;</item>
/// <item>on idempotent routes an accepted request sent again is a 200 with the same body and stores nothing.</item>
/// </list>
/// </summary>
public sealed class RouteFuzzer(ApiHarness api, TableServiceClient tables, FuzzRoute route)
{
    private readonly Dictionary<int, int> _statuses = [];
    private TableSnapshot? _stored;

    public int Cases => _statuses.Values.Sum();

    public int Count(Func<int, bool> status) => _statuses.Where(s => status(s.Key)).Sum(s => s.Value);

    public async Task RunAsync(FuzzCase input)
    {
        _stored ??= await SnapshotAsync();
        var response = await SendAsync(input);
        var stored = await SnapshotAsync();
        _statuses[response.Status] = _statuses.GetValueOrDefault(response.Status) + 1;

        var violations = ResponseRules.Violations(response, route.Success).ToList();
        if (response.Status is >= 400 and < 500 && stored.DifferenceFrom(_stored) is { Length: > 0 } changed)
        {
            violations.Add($"a refused request changed storage:{Environment.NewLine}{changed}");
        }

        if (input.Verdict == Verdict.Invalid && response.Status != 400)
        {
            violations.Add("the contract refuses this input, so the answer must be a 400");
        }
        else if (input.Verdict == Verdict.Valid && response.Status == 400)
        {
            violations.Add("the contract accepts this input, so the answer must not be a 400");
        }

        if (violations.Count == 0 && route.RepeatIsNoOp && response.Status is >= 200 and < 300)
        {
            var repeat = await SendAsync(input);
            var afterRepeat = await SnapshotAsync();
            if (repeat.Status != 200 || !SameBody(repeat, response))
            {
                violations.Add($"the same request again must be a 200 with the same body; it was {repeat}");
            }

            if (afterRepeat.DifferenceFrom(stored) is { Length: > 0 } changedAgain)
            {
                violations.Add($"the same request again changed storage:{Environment.NewLine}{changedAgain}");
            }

            stored = afterRepeat;
        }

        _stored = stored;
        if (violations.Count > 0)
        {
            throw new XunitException(
                $"{route.Name} answered {response}{Environment.NewLine}- {string.Join(Environment.NewLine + "- ", violations)}");
        }
    }

    public string Summary() =>
        $"{route.Name}: {Cases} cases, " + string.Join(", ", _statuses.OrderBy(s => s.Key).Select(s => $"{s.Key} x{s.Value}"));

    /// <summary>The same JSON (member order and spacing aside), or the same text for pages and empty bodies.</summary>
    private static bool SameBody(ApiResponse first, ApiResponse second) =>
        first.MediaType == "application/json" && second.MediaType == "application/json"
            ? JsonElement.DeepEquals(first.Json(), second.Json())
            : first.MediaType == second.MediaType && first.Body == second.Body;

    private async Task<ApiResponse> SendAsync(FuzzCase input)
    {
        var request = api.Request(route.Method.ToUpperInvariant(), "/api", query: input.Query is null ? null : "?" + input.Query);

        // The decoded path, as the host hands it over (set directly: a string path would be URL-decoded again).
        request.Path = new PathString(route.PathFor(input));
        if (input.Body is { } body)
        {
            request.Body = new MemoryStream(body, writable: false);
            request.ContentLength = input.WithoutLength ? null : body.Length;
        }

        request.ContentType = input.ContentType;
        if (input.CorrelationId is not null)
        {
            request.Headers["x-correlation-id"] = input.CorrelationId;
        }

        // Through the app's worker middleware, as the host runs it; an exception escaping the function still fails the run.
        Exception? escaped = null;
        var response = await api.InvokeAsync(request, route.Name, async context =>
        {
            try
            {
                return await route.Call(api, request, context, input);
            }
            catch (Exception ex)
            {
                escaped = ex;
                throw;
            }
        });
        return escaped is null
            ? response
            : throw new XunitException($"An exception escaped {route.Name} (the host answers 500): {escaped.GetType().Name}: {escaped.Message}", escaped);
    }

    private Task<TableSnapshot> SnapshotAsync() => TableSnapshot.TakeAsync(tables, api.TablePrefix);
}
