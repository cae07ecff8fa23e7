using System.Text.Json;
using Microsoft.Data.Sqlite;
using Tallystick.Wire;

namespace Tallystick.Server.Deltas;

/// <summary>Reads delta rows (for status, derive and customer activity) and checkpoints, on a read connection.</summary>
internal static class DeltaRows
{
    public const string Columns =
        "d.id, d.seq, d.amount_units, d.reason, d.reference_id, d.metadata, d.item_hash, d.received_at, " +
        "d.record, r.receipt, r.leaf_index";

    public const string From = "FROM deltas d JOIN records r ON r.id = d.record";

    /// <summary>
    /// A customer's deltas with sequence numbers in [$from, $to), through records_by_customer: one seek for the
    /// record holding $from, then each record's contiguous rowid range. Bind $k, $from, $to; append ORDER BY (r.first_seq, d.id is sequence order without a sort).
    /// </summary>
    public const string CustomerRange = $"SELECT {Columns} FROM records r " +
        "JOIN deltas d ON d.id >= r.first_delta AND d.id < r.first_delta + r.delta_count " +
        "WHERE r.customer = $k AND r.first_seq < $to AND r.first_seq >= coalesce(" +
        "(SELECT max(first_seq) FROM records WHERE customer = $k AND first_seq <= $from), 0) " +
        "AND d.seq >= $from AND d.seq < $to";

    public static List<DeltaRow> Read(SqliteCommand command, LogHead head)
    {
        var rows = new List<DeltaRow>();
        using var reader = command.ExecuteReader();
        while (reader.Read())
        {
            rows.Add(new DeltaRow
            {
                Index = reader.GetInt64(0) - 1,
                SequenceNumber = reader.GetInt64(1),
                Delta = Amount.FromUnits(reader.GetInt64(2)),
                Reason = reader.GetString(3),
                ReferenceId = reader.IsDBNull(4) ? null : reader.GetString(4),
                Metadata = reader.IsDBNull(5) ? null : JsonSerializer.Deserialize(reader.GetString(5), WireJson.Default.JsonElement),
                ItemHash = Hex((byte[])reader[6]),
                ReceivedAt = Timestamps.Format(reader.GetInt64(7)),
                RecordId = RecordIds.Format(reader.GetInt64(8)),
                ReceiptId = Hex((byte[])reader[9]),
                Status = head.StatusOf(reader.GetInt64(10)),
            });
        }
        return rows;
    }

    /// <summary>The first stored checkpoint whose tree contains <paramref name="leafIndex"/>, or null.</summary>
    public static CheckpointInfo? CoveringCheckpoint(SqliteConnection connection, long leafIndex)
    {
        using var command = connection.CreateCommand();
        command.CommandText = "SELECT size, root, note, created_at FROM checkpoints WHERE size > $leaf ORDER BY size LIMIT 1";
        command.Parameters.AddWithValue("$leaf", leafIndex);
        using var reader = command.ExecuteReader();
        return reader.Read() ? ReadCheckpoint(reader) : null;
    }

    public static CheckpointInfo ReadCheckpoint(SqliteDataReader reader) => new()
    {
        Size = reader.GetInt64(0),
        RootHash = Hex((byte[])reader[1]),
        Note = reader.GetString(2),
        SignedAt = Timestamps.Format(reader.GetInt64(3)),
    };

    public static CheckpointInfo Current(LogHead head) => new()
    {
        Size = head.CheckpointSize,
        RootHash = Hex(head.CheckpointRoot),
        Note = head.CheckpointNote,
        SignedAt = Timestamps.Format(head.CheckpointAtUnixMs),
    };

    public static string Hex(byte[] bytes) => "0x" + Convert.ToHexStringLower(bytes);
}
