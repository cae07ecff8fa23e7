using System.Buffers;
using System.Globalization;
using System.Text.Json;
using Microsoft.Data.Sqlite;
using Tallystick.Server.Deltas;

namespace Tallystick.Server.Webhooks;

/// <summary>One outbox row, as the dispatcher reads it.</summary>
internal sealed record WebhookEvent(long Id, long PlaneId, string Type, long Subject, long CreatedAt, string TenantName,
    string Environment)
{
    public const string IdPrefix = "evt_";

    public string PublicId => IdPrefix + Id.ToString(CultureInfo.InvariantCulture);

    public static long? TryParseId(string text) =>
        text.StartsWith(IdPrefix, StringComparison.Ordinal) && text.Length <= 24 &&
        long.TryParse(text.AsSpan(IdPrefix.Length), NumberStyles.None, CultureInfo.InvariantCulture, out var id) && id > 0
            ? id
            : null;

}

/// <summary>A rendered delivery body and its <c>Idempotency-Key</c>; the same bytes for every attempt.</summary>
internal sealed record WebhookPayload(byte[] Body, string IdempotencyKey);

/// <summary>
/// Renders event bodies from the ledger rows they name (docs/api.md, Webhooks, has the schemas): the envelope
/// <c>{id, event, type, tenantId, environment, timestamp, createdAt, data}</c> and per type its <c>data</c>. Everything
/// comes from immutable rows and the event's own time, so every attempt sends the same body. Bound to the dispatcher's
/// connection, whose thread is the only user; each query is prepared once and reused (at thousands of deliveries a
/// second, preparing every statement again was a visible share of the dispatcher's time).
/// </summary>
internal sealed class WebhookPayloads(SqliteConnection connection) : IDisposable
{
    private readonly Dictionary<string, SqliteCommand> _commands = new(StringComparer.Ordinal);

    public void Dispose()
    {
        foreach (var command in _commands.Values)
        {
            command.Dispose();
        }
        _commands.Clear();
    }

    /// <summary>Reads one outbox row with its tenant and environment; null when it does not exist.</summary>
    public WebhookEvent? ReadEvent(long id)
    {
        using var reader = Query("""
            SELECT e.id, e.plane_id, e.type, e.subject, e.created_at, t.name, p.environment
            FROM webhook_events e JOIN planes p ON p.id = e.plane_id JOIN tenants t ON t.id = p.tenant_id
            WHERE e.id = $id
            """, id);
        return reader.Read()
            ? new WebhookEvent(reader.GetInt64(0), reader.GetInt64(1), reader.GetString(2), reader.GetInt64(3),
                reader.GetInt64(4), reader.GetString(5), reader.GetString(6))
            : null;
    }

    /// <summary>Runs a prepared query whose parameters are <c>$id</c> and optionally <c>$end</c>.</summary>
    private SqliteDataReader Query(string sql, long id, long end = 0)
    {
        if (!_commands.TryGetValue(sql, out var command))
        {
            command = connection.CreateCommand();
            command.CommandText = sql;
            command.Parameters.Add("$id", SqliteType.Integer);
            if (sql.Contains("$end", StringComparison.Ordinal))
            {
                command.Parameters.Add("$end", SqliteType.Integer);
            }
            _commands[sql] = command;
        }
        command.Parameters["$id"].Value = id;
        if (command.Parameters.Contains("$end"))
        {
            command.Parameters["$end"].Value = end;
        }
        return command.ExecuteReader();
    }

    public WebhookPayload? Render(WebhookEvent e)
    {
        var buffer = new ArrayBufferWriter<byte>(1024);
        using var writer = new Utf8JsonWriter(buffer);
        writer.WriteStartObject();
        writer.WriteString("id", e.PublicId);
        writer.WriteString("event", e.Type);
        writer.WriteString("type", e.Type);
        writer.WriteString("tenantId", e.TenantName);
        writer.WriteString("environment", e.Environment);
        writer.WriteString("timestamp", Timestamps.Format(e.CreatedAt));
        writer.WriteString("createdAt", Timestamps.Format(e.CreatedAt));
        writer.WritePropertyName("data");
        var key = e.Type switch
        {
            WebhookEventTypes.DeltaVerified => DeltaVerified(e, writer),
            WebhookEventTypes.ReceiptGenerated => ReceiptGenerated(e, writer),
            WebhookEventTypes.CheckpointVerified => CheckpointVerified(e, writer),
            WebhookEventTypes.Test => Test(e, writer),
            _ => null,
        };
        if (key is null)
        {
            return null;
        }
        writer.WriteEndObject();
        writer.Flush();
        return new WebhookPayload(buffer.WrittenSpan.ToArray(), key);
    }

    private string? DeltaVerified(WebhookEvent e, Utf8JsonWriter w)
    {
        using var reader = Query("""
            SELECT d.id, d.seq, d.amount_units, d.reason, d.reference_id, d.metadata, d.item_hash, d.received_at,
                   r.id, r.receipt, r.leaf_index, r.first_delta, r.delta_count, c.customer_id
            FROM deltas d JOIN records r ON r.id = d.record JOIN customers c ON c.id = r.customer WHERE d.id = $id
            """, e.Subject);
        if (!reader.Read())
        {
            return null;
        }
        var receipt = DeltaRows.Hex((byte[])reader[9]);
        var itemHash = DeltaRows.Hex((byte[])reader[6]);
        var receivedAt = reader.GetInt64(7);
        var count = reader.GetInt64(12);
        var deltaIndex = reader.GetInt64(0) - 1;
        w.WriteStartObject();
        w.WriteString("receiptId", receipt);
        w.WriteString("recordId", RecordIds.Format(reader.GetInt64(8)));
        w.WriteString("customerId", reader.GetString(13));
        w.WriteNumber("deltaIndex", deltaIndex);
        w.WriteNumber("sequenceNumber", reader.GetInt64(1));
        w.WriteString("itemHash", itemHash);
        w.WriteNumber("logIndex", reader.GetInt64(10));
        w.WriteString("status", "verified");
        w.WriteString("verifiedAt", Timestamps.Format(e.CreatedAt));
        w.WriteStartObject("delta");
        w.WriteString("customerId", reader.GetString(13));
        w.WriteNumber("amount", Amount.FromUnits(reader.GetInt64(2)).Value);
        w.WriteString("reason", reader.GetString(3));
        if (!reader.IsDBNull(4))
        {
            w.WriteString("referenceId", reader.GetString(4));
        }
        if (!reader.IsDBNull(5))
        {
            w.WritePropertyName("metadata");
            w.WriteRawValue(reader.GetString(5), skipInputValidation: true);
        }
        w.WriteString("submittedAt", Timestamps.Format(receivedAt));
        w.WriteEndObject();
        w.WriteStartObject("proof");
        w.WriteString("proofHash", receipt);
        w.WriteString("contentHash", itemHash);
        w.WriteStartArray("itemHashes");
        foreach (var hash in ItemHashes(reader.GetInt64(11), count))
        {
            w.WriteStringValue(hash);
        }
        w.WriteEndArray();
        w.WriteEndObject();
        w.WriteStartObject("verification");
        w.WriteBoolean("verified", true);
        w.WriteNumber("latencyMs", Math.Max(0, e.CreatedAt - receivedAt));
        w.WriteStartArray("discrepancies");
        w.WriteEndArray();
        w.WriteEndObject();
        w.WriteEndObject();
        // One record holding several deltas has one receipt: the delta's index keeps their keys apart.
        return count == 1 ? $"{receipt}:{e.TenantName}" : $"{receipt}:{e.TenantName}:{deltaIndex}";
    }

    private List<string> ItemHashes(long firstDelta, long count)
    {
        using var reader = Query("SELECT item_hash FROM deltas WHERE id >= $id AND id < $end ORDER BY id", firstDelta,
            firstDelta + count);
        var hashes = new List<string>();
        while (reader.Read())
        {
            hashes.Add(DeltaRows.Hex((byte[])reader[0]));
        }
        return hashes;
    }

    private string? ReceiptGenerated(WebhookEvent e, Utf8JsonWriter w)
    {
        using var reader = Query("""
            SELECT r.id, r.leaf_index, r.receipt, r.first_delta, r.first_seq, r.delta_count, r.net_units,
                   r.accepted_at, c.customer_id
            FROM records r JOIN customers c ON c.id = r.customer WHERE r.id = $id
            """, e.Subject);
        if (!reader.Read())
        {
            return null;
        }
        var receipt = DeltaRows.Hex((byte[])reader[2]);
        w.WriteStartObject();
        w.WriteString("receiptId", receipt);
        w.WriteString("recordId", RecordIds.Format(reader.GetInt64(0)));
        w.WriteString("customerId", reader.GetString(8));
        w.WriteNumber("deltaIndex", reader.GetInt64(3) - 1);
        w.WriteNumber("sequenceNumber", reader.GetInt64(4));
        w.WriteNumber("deltaCount", reader.GetInt64(5));
        w.WriteNumber("netDelta", Amount.FromUnits(reader.GetInt64(6)).Value);
        w.WriteNumber("logIndex", reader.GetInt64(1));
        w.WriteStartArray("itemHashes");
        foreach (var hash in ItemHashes(reader.GetInt64(3), reader.GetInt64(5)))
        {
            w.WriteStringValue(hash);
        }
        w.WriteEndArray();
        w.WriteString("receivedAt", Timestamps.Format(reader.GetInt64(7)));
        w.WriteEndObject();
        return $"receipt:{receipt}:{e.TenantName}";
    }

    private string? CheckpointVerified(WebhookEvent e, Utf8JsonWriter w)
    {
        using var reader = Query("""
            SELECT p.id, p.from_seq, p.to_seq, p.starting_balance, p.ending_balance, p.proof_root, p.leaf_index,
                   p.created_at, c.customer_id
            FROM period_checkpoints p JOIN customers c ON c.id = p.customer WHERE p.id = $id
            """, e.Subject);
        if (!reader.Read())
        {
            return null;
        }
        var id = "chk_" + reader.GetInt64(0).ToString(CultureInfo.InvariantCulture);
        var root = DeltaRows.Hex((byte[])reader[5]);
        w.WriteStartObject();
        w.WriteString("checkpointId", id);
        w.WriteString("customerId", reader.GetString(8));
        w.WriteString("proofRoot", root);
        w.WriteString("proofHash", root);
        w.WriteNumber("fromSequence", reader.GetInt64(1));
        w.WriteNumber("toSequence", reader.GetInt64(2));
        w.WriteNumber("deltaCount", reader.GetInt64(2) - reader.GetInt64(1));
        w.WriteNumber("startingBalance", decimal.Parse(reader.GetString(3), CultureInfo.InvariantCulture));
        w.WriteNumber("endingBalance", decimal.Parse(reader.GetString(4), CultureInfo.InvariantCulture));
        w.WriteNumber("logIndex", reader.GetInt64(6));
        w.WriteString("status", "verified");
        w.WriteString("createdAt", Timestamps.Format(reader.GetInt64(7)));
        w.WriteString("verifiedAt", Timestamps.Format(e.CreatedAt));
        w.WriteEndObject();
        return $"{id}:{e.TenantName}";
    }

    private static string Test(WebhookEvent e, Utf8JsonWriter w)
    {
        w.WriteStartObject();
        w.WriteString("endpointId", WebhookEndpoint.IdPrefix + e.Subject.ToString(CultureInfo.InvariantCulture));
        w.WriteString("message", "This is a test delivery from Tallystick.");
        w.WriteEndObject();
        return $"{e.PublicId}:{e.TenantName}";
    }
}
