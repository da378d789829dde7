using Smp.Core.Plans;
namespace Smp.Core.Updates;

/// <summary>Update settings: <c>Smp:Updates:Entitlement</c>, which licenses get a released update's password (R13).</summary>
public sealed record UpdateOptions(EntitlementPolicy Entitlement = EntitlementPolicy.CurrentPlan)
{
    public const string EntitlementSetting = "Smp:Updates:Entitlement";
}
