using System.Security.Cryptography;
using Microsoft.Data.Sqlite;
using Tallystick.Server.Storage;

namespace Tallystick.Server.Tenants;

/// <summary>A data plane: one tenant's test or live environment.</summary>
internal sealed record Plane(long Id, string TenantName, string Environment, byte[] ReferenceKey);

/// <summary>A key as listed (never with its secret).</summary>
internal sealed record ApiKeyInfo(long Id, string TenantName, string Environment, string PublicId,
    long CreatedAtUnixMs, long? RevokedAtUnixMs);

/// <summary>Tenants, planes and API keys: created by the CLI and bootstrap, read by authentication.</summary>
internal sealed class TenantDirectory(Database database, TimeProvider time)
{
    public const string BootstrapTenant = "bootstrap";

    /// <summary>Creates a new key (and its tenant and plane if they do not exist yet).</summary>
    public ApiKey CreateKey(string tenantName, string environment)
    {
        var key = ApiKey.Generate(environment);
        Insert(tenantName, key);
        return key;
    }

    /// <summary>
    /// Makes sure each given full key exists (TALLY_BOOTSTRAP_API_KEY). <c>name=key</c> picks the tenant;
    /// a bare key belongs to the tenant "bootstrap". A known public id with a different secret is an error.
    /// </summary>
    public void EnsureBootstrapKeys(string specification)
    {
        foreach (var raw in specification.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
        {
            var equals = raw.IndexOf('=', StringComparison.Ordinal);
            var tenant = equals > 0 ? raw[..equals] : BootstrapTenant;
            var text = equals > 0 ? raw[(equals + 1)..] : raw;
            var key = ApiKey.TryParse(text) ?? throw new InvalidOperationException(
                "TALLY_BOOTSTRAP_API_KEY holds a value that is not a key of the form " +
                "pk_test_<publicId>.<secret> (publicId 4–64 letters/digits, secret 16–128 of [A-Za-z0-9_-])");
            ValidateTenantName(tenant);
            using var connection = database.Open();
            using var find = connection.CreateCommand();
            find.CommandText = "SELECT secret_hash FROM api_keys WHERE public_id = $p";
            find.Parameters.AddWithValue("$p", key.PublicId);
            if (find.ExecuteScalar() is byte[] existing)
            {
                if (!CryptographicOperations.FixedTimeEquals(existing, key.SecretHash()))
                {
                    throw new InvalidOperationException(
                        $"bootstrap key pk_{key.Environment}_{key.PublicId} exists with a different secret");
                }
                continue;
            }
            Insert(tenant, key);
        }
    }

    public IReadOnlyList<ApiKeyInfo> ListKeys()
    {
        using var connection = database.Open();
        using var command = connection.CreateCommand();
        command.CommandText = """
            SELECT k.id, t.name, p.environment, k.public_id, k.created_at, k.revoked_at
            FROM api_keys k JOIN planes p ON p.id = k.plane_id JOIN tenants t ON t.id = p.tenant_id
            ORDER BY t.name, p.environment, k.id
            """;
        using var reader = command.ExecuteReader();
        var keys = new List<ApiKeyInfo>();
        while (reader.Read())
        {
            keys.Add(new ApiKeyInfo(reader.GetInt64(0), reader.GetString(1), reader.GetString(2), reader.GetString(3),
                reader.GetInt64(4), reader.IsDBNull(5) ? null : reader.GetInt64(5)));
        }
        return keys;
    }

    /// <summary>Revokes a key by public id or full key prefix; false when no active key matched.</summary>
    public bool Revoke(string publicIdOrKey)
    {
        var publicId = ApiKey.TryParse(publicIdOrKey)?.PublicId ?? publicIdOrKey;
        if (publicId.StartsWith("pk_", StringComparison.Ordinal) && publicId.Length > 8)
        {
            publicId = publicId[8..].Split('.')[0];
        }
        using var connection = database.Open();
        using var command = connection.CreateCommand();
        command.CommandText = "UPDATE api_keys SET revoked_at = $now WHERE public_id = $p AND revoked_at IS NULL";
        command.Parameters.AddWithValue("$now", time.GetUtcNow().ToUnixTimeMilliseconds());
        command.Parameters.AddWithValue("$p", publicId);
        return command.ExecuteNonQuery() == 1;
    }

    /// <summary>Looks up an active key's plane and stored hash by public id; null when unknown or revoked.</summary>
    public (Plane Plane, byte[] SecretHash)? FindActiveKey(string publicId)
    {
        using var connection = database.Open();
        using var command = connection.CreateCommand();
        command.CommandText = """
            SELECT p.id, t.name, p.environment, p.reference_key, k.secret_hash
            FROM api_keys k JOIN planes p ON p.id = k.plane_id JOIN tenants t ON t.id = p.tenant_id
            WHERE k.public_id = $p AND k.revoked_at IS NULL
            """;
        command.Parameters.AddWithValue("$p", publicId);
        using var reader = command.ExecuteReader();
        if (!reader.Read())
        {
            return null;
        }
        var plane = new Plane(reader.GetInt64(0), reader.GetString(1), reader.GetString(2), (byte[])reader[3]);
        return (plane, (byte[])reader[4]);
    }

    public static void ValidateTenantName(string name)
    {
        if (name.Length is 0 or > 64 || !name.All(c => char.IsAsciiLetterOrDigit(c) || c is '-' or '_' or '.'))
        {
            throw new ArgumentException($"tenant name '{name}' must be 1–64 characters of [A-Za-z0-9._-]");
        }
    }

    private void Insert(string tenantName, ApiKey key)
    {
        ValidateTenantName(tenantName);
        if (!ApiKey.IsEnvironment(key.Environment))
        {
            throw new ArgumentException($"environment '{key.Environment}' must be test or live");
        }
        var now = time.GetUtcNow().ToUnixTimeMilliseconds();
        using var connection = database.Open();
        using var transaction = connection.BeginTransaction(deferred: false);
        var tenantId = Upsert(connection, transaction,
            "INSERT INTO tenants (name, created_at) VALUES ($name, $now) ON CONFLICT (name) DO NOTHING",
            "SELECT id FROM tenants WHERE name = $name", ("$name", tenantName), ("$now", now));
        var planeId = Upsert(connection, transaction,
            "INSERT INTO planes (tenant_id, environment, reference_key, created_at) VALUES ($t, $env, $key, $now) " +
            "ON CONFLICT (tenant_id, environment) DO NOTHING",
            "SELECT id FROM planes WHERE tenant_id = $t AND environment = $env",
            ("$t", tenantId), ("$env", key.Environment), ("$key", RandomNumberGenerator.GetBytes(32)), ("$now", now));
        using var insert = connection.CreateCommand();
        insert.Transaction = transaction;
        insert.CommandText = "INSERT INTO api_keys (plane_id, public_id, secret_hash, created_at) VALUES ($p, $id, $h, $now)";
        insert.Parameters.AddWithValue("$p", planeId);
        insert.Parameters.AddWithValue("$id", key.PublicId);
        insert.Parameters.AddWithValue("$h", key.SecretHash());
        insert.Parameters.AddWithValue("$now", now);
        insert.ExecuteNonQuery();
        transaction.Commit();
    }

    private static long Upsert(SqliteConnection connection, SqliteTransaction transaction, string insertSql,
        string selectSql, params (string Name, object Value)[] parameters)
    {
        using var insert = connection.CreateCommand();
        insert.Transaction = transaction;
        insert.CommandText = insertSql;
        foreach (var (name, value) in parameters)
        {
            insert.Parameters.AddWithValue(name, value);
        }
        insert.ExecuteNonQuery();
        using var select = connection.CreateCommand();
        select.Transaction = transaction;
        select.CommandText = selectSql;
        foreach (var (name, value) in parameters)
        {
            if (selectSql.Contains(name, StringComparison.Ordinal))
            {
                select.Parameters.AddWithValue(name, value);
            }
        }
        return (long)select.ExecuteScalar()!;
    }
}
