namespace Smp.Azure.Tables;

/// <summary>Names of the tables <see cref="TableLicenseStore"/> uses.</summary>
public sealed class TableLicenseStoreOptions
{
    /// <summary>Licenses and their events: one partition per license.</summary>
    public string LicensesTable { get; init; } = "licenses";

    /// <summary>Secondary indexes of the licenses (by customer, by expiry date).</summary>
    public string IndexTable { get; init; } = "licenseindex";
}
