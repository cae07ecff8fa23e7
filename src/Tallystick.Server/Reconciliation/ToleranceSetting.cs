using System.Text.Json;
using Microsoft.Data.Sqlite;
using Tallystick.Server.Storage;
using Tallystick.Wire;

namespace Tallystick.Server.Reconciliation;

/// <summary>
/// A tenant's default compare tolerance ("small variances settle automatically"), applied when a compare request
/// gives none. Stored as the JSON of <see cref="CompareTolerance"/> in the <c>meta</c> table under
/// <c>compare_tolerance/tenant/&lt;tenant id&gt;</c> (absent: exact match only), so every database has it without a
/// migration. Set by <c>tally tenants set</c>; read on each compare, so a change takes effect at once.
/// </summary>
internal static class ToleranceSetting
{
    private const string MetaKeyPrefix = "compare_tolerance/tenant/";

    /// <summary>The default tolerance of the plane's tenant, or null.</summary>
    public static CompareTolerance? Read(SqliteConnection connection, long planeId)
    {
        using var command = connection.CreateCommand();
        command.CommandText = "SELECT m.value FROM planes p JOIN meta m ON m.key = $prefix || p.tenant_id WHERE p.id = $p";
        command.Parameters.AddWithValue("$prefix", MetaKeyPrefix);
        command.Parameters.AddWithValue("$p", planeId);
        return command.ExecuteScalar() is string stored
            ? JsonSerializer.Deserialize(stored, WireJson.Default.CompareTolerance)
                ?? throw new InvalidOperationException($"meta {MetaKeyPrefix}… holds '{stored}', not a tolerance")
            : null;
    }

    /// <summary>
    /// Stores (or, with both bounds null, removes) the default for an existing tenant; false when no tenant has
    /// that name. Bounds must be ≥ 0.
    /// </summary>
    public static bool Set(Database database, string tenantName, Amount? absolute, Amount? relative)
    {
        if (absolute < Amount.Zero || relative < Amount.Zero)
        {
            throw new ArgumentException("tolerances must be ≥ 0");
        }
        return database.WriteTenantMeta(tenantName, MetaKeyPrefix, absolute is null && relative is null
            ? null
            : JsonSerializer.Serialize(new CompareTolerance { Absolute = absolute, Relative = relative },
                WireJson.Default.CompareTolerance));
    }
}
