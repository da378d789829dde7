using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Mvc;
using Microsoft.Azure.Functions.Worker;
using NodaTime;
using Smp.Core.Licenses;
using Smp.Core.Plans;
using Smp.Functions.Http;

namespace Smp.Functions.Functions;

/// <summary>Staff look-ups across licenses: a customer's licenses, and plans expiring in a date range.</summary>
public sealed class ReportFunctions(LicenseService licenses, LicenseResults results)
{
    /// <summary>The longest range one expiring report may cover, so one request cannot read the whole index.</summary>
    public const int MaxReportDays = 400;

    [Function("ListCustomerLicenses")]
    public async Task<IActionResult> ListCustomerLicenses(
        [HttpTrigger(AuthorizationLevel.Function, "get", Route = "customers/{customerId}/licenses")] HttpRequest request,
        string customerId,
        FunctionContext context)
    {
        var errors = new ValidationErrors();
        if (RequestReaders.CustomerId(customerId, errors) is not { } id)
        {
            return Problems.Validation(errors);
        }

        var found = await licenses.ListByCustomerAsync(id, context.CancellationToken);
        if (found.Count == 0)
        {
            return Problems.NotFound("No license belongs to this customer.");
        }

        var customer = found[0].License.Customer;
        return new OkObjectResult(new CustomerLicensesDocument(
            new CustomerDocument(customer.Id, customer.Name),
            [.. found.Select(l => results.Document(l))]));
    }

    [Function("ExpiringReport")]
    public async Task<IActionResult> ExpiringReport(
        [HttpTrigger(AuthorizationLevel.Function, "get", Route = "reports/expiring")] HttpRequest request,
        FunctionContext context)
    {
        var errors = new ValidationErrors();
        var from = Date(request, "from", errors);
        var to = Date(request, "to", errors);
        if (from is { } f && to is { } t)
        {
            if (t < f)
            {
                errors.Add("to", "'to' must not be before 'from'.");
            }
            else if (Period.DaysBetween(f, t) > MaxReportDays)
            {
                errors.Add("to", $"A report covers at most {MaxReportDays} days.");
            }
        }

        if (errors.Any)
        {
            return Problems.Validation(errors);
        }

        var found = await licenses.ListExpiringAsync(from!.Value, to!.Value, context.CancellationToken);
        return new OkObjectResult(new ExpiringReportDocument(from.Value, to.Value, [.. found.Select(l => results.Document(l))]));
    }

    private static LocalDate? Date(HttpRequest request, string name, ValidationErrors errors)
    {
        var values = request.Query[name];
        if (values.Count != 1 || string.IsNullOrEmpty(values[0]))
        {
            errors.Add(name, "A date (yyyy-MM-dd) is required, once.");
            return null;
        }

        if (!JsonFields.TryParseDate(values[0]!, out var date))
        {
            errors.Add(name, "Expected a date as yyyy-MM-dd.");
            return null;
        }

        return date;
    }
}
