using System.Text.Json;
using Microsoft.Data.Sqlite;
using Tallystick.Server.Storage;
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
    /// record holding $from, then each record's contiguous rowid range. For the rows not yet in customer_rows.
    /// </summary>
    private const string RecordRange = $"SELECT {Columns} FROM records r " +
        "JOIN deltas d ON d.id >= r.first_delta AND d.id < r.first_delta + r.delta_count " +
        "WHERE r.customer = $k AND r.first_seq < $to AND r.first_seq >= coalesce(" +
        "(SELECT max(first_seq) FROM records WHERE customer = $k AND first_seq <= $from), 0) " +
        "AND d.seq >= $from AND d.seq < $to ORDER BY r.first_seq, d.id";

    /// <summary>The same columns as <see cref="Columns"/>, from the copied prefix in customer_rows (customer-rows.db).</summary>
    private const string ClusteredRange = "SELECT delta, seq, amount_units, reason, reference_id, metadata, item_hash, " +
        "received_at, record, receipt, leaf_index FROM rows.customer_rows WHERE customer = $k AND seq >= $from AND seq < $to " +
        "ORDER BY seq";

    /// <summary>
    /// A customer's deltas with sequence numbers in [<paramref name="from"/>, <paramref name="to"/>), oldest first
    /// (newest first when <paramref name="newestFirst"/>). The copied prefix comes from customer_rows (one seek, then
    /// contiguous pages; <see cref="CustomerRows"/>); rows not copied yet (the newest, seconds' worth) come from records
    /// and deltas. Committed rows read the same either way, so the two reads need not share a snapshot. Runs in the
    /// connection's open transaction, if any.
    /// </summary>
    public static List<DeltaRow> ReadCustomerRange(SqliteConnection connection, long customerKey, long from, long to,
        bool newestFirst, LogHead head)
    {
        var rows = new List<DeltaRow>((int)Math.Clamp(to - from, 0, Limits.DeriveRowsMax));
        if (to <= from)
        {
            return rows;
        }
        var clustered = connection.Prepared(ClusteredRange);
        Bind(clustered, customerKey, from, to);
        Read(clustered, head, rows);
        for (var i = 0; i < rows.Count; i++)
        {
            if (rows[i].SequenceNumber != from + i)
            {
                throw new InvalidOperationException(
                    $"customer_rows of customer key {customerKey} is not a prefix of its sequence at {from + i}");
            }
        }
        if (from + rows.Count < to)
        {
            var rest = connection.Prepared(RecordRange);
            Bind(rest, customerKey, from + rows.Count, to);
            Read(rest, head, rows);
        }
        if (newestFirst)
        {
            rows.Reverse();
        }
        return rows;

        static void Bind(SqliteCommand command, long customerKey, long from, long to)
        {
            command.Parameters.AddWithValue("$k", customerKey);
            command.Parameters.AddWithValue("$from", from);
            command.Parameters.AddWithValue("$to", to);
        }
    }

    public static List<DeltaRow> Read(SqliteCommand command, LogHead head)
    {
        var rows = new List<DeltaRow>();
        Read(command, head, rows);
        return rows;
    }

    /// <summary>Appends the rows of a query selecting <see cref="Columns"/> (or the same columns of customer_rows).</summary>
    private static void Read(SqliteCommand command, LogHead head, List<DeltaRow> rows)
    {
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
