using System.Globalization;
using Microsoft.Data.Sqlite;
using Tallystick.Server.Storage;

namespace Tallystick.Server.Verification;

/// <summary>What the holder of one of a tenant's proof roots sees on the public verify endpoint.</summary>
internal enum Reveal
{
    /// <summary>The summary and every delta (amount, reason, referenceId, exact item bytes). The default.</summary>
    Records,

    /// <summary>Only the summary (counts, net change, balances, times) and the salted item hashes.</summary>
    Summary,
}

/// <summary>
/// The per-tenant <see cref="Reveal"/> setting, stored in the <c>meta</c> table under
/// <c>verify_reveal/tenant/&lt;tenant id&gt;</c> (absent = <see cref="Reveal.Records"/>), so every existing database
/// has it without a migration. Set by <c>tally tenants set</c>; read on each verify request, so a change takes effect
/// at once.
/// </summary>
internal static class RevealSetting
{
    private const string MetaKeyPrefix = "verify_reveal/tenant/";

    public static string Name(Reveal reveal) => reveal == Reveal.Summary ? "summary" : "records";

    public static Reveal? Parse(string text) => text switch
    {
        "records" => Reveal.Records,
        "summary" => Reveal.Summary,
        _ => null,
    };

    public static Reveal Read(SqliteConnection connection, SqliteTransaction? transaction, long tenantId) =>
        Database.ReadMeta(connection, MetaKey(tenantId), transaction) is { } stored
            ? Parse(stored) ?? throw new InvalidOperationException(
                $"meta {MetaKey(tenantId)} holds '{stored}', expected records or summary")
            : Reveal.Records;

    /// <summary>Stores the setting for an existing tenant; false when no tenant has that name.</summary>
    public static bool Set(Database database, string tenantName, Reveal reveal) =>
        database.WriteTenantMeta(tenantName, MetaKeyPrefix, Name(reveal));

    private static string MetaKey(long tenantId) => MetaKeyPrefix + tenantId.ToString(CultureInfo.InvariantCulture);
}
