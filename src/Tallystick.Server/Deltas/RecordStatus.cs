using Microsoft.Data.Sqlite;
using Tallystick.Wire;

namespace Tallystick.Server.Deltas;

/// <summary>Reads one record with its deltas, status and covering checkpoint.</summary>
internal static class RecordStatus
{
    public static DeltaStatusResult? Read(SqliteConnection connection, long plane, long id, LogHead head, string origin)
    {
        using var command = connection.CreateCommand();
        command.CommandText = """
            SELECT c.customer_id, c.reference, r.leaf_index, r.receipt, r.first_delta, r.first_seq, r.delta_count,
                   r.net_units, r.accepted_at
            FROM records r JOIN customers c ON c.id = r.customer
            WHERE r.id = $id AND r.plane_id = $plane
            """;
        command.Parameters.AddWithValue("$id", id);
        command.Parameters.AddWithValue("$plane", plane);
        string customerId;
        byte[] reference, receipt;
        long leaf, firstDelta, firstSeq, net, acceptedAt;
        int count;
        using (var reader = command.ExecuteReader())
        {
            if (!reader.Read())
            {
                return null;
            }
            customerId = reader.GetString(0);
            reference = (byte[])reader[1];
            leaf = reader.GetInt64(2);
            receipt = (byte[])reader[3];
            firstDelta = reader.GetInt64(4);
            firstSeq = reader.GetInt64(5);
            count = reader.GetInt32(6);
            net = reader.GetInt64(7);
            acceptedAt = reader.GetInt64(8);
        }
        using var rows = connection.CreateCommand();
        rows.CommandText = $"SELECT {DeltaRows.Columns} {DeltaRows.From} WHERE d.id BETWEEN $first AND $last ORDER BY d.id";
        rows.Parameters.AddWithValue("$first", firstDelta);
        rows.Parameters.AddWithValue("$last", firstDelta + count - 1);
        var deltas = DeltaRows.Read(rows, head);
        var status = head.StatusOf(leaf);
        var checkpoint = status == "VERIFIED" ? DeltaRows.CoveringCheckpoint(connection, leaf) : null;
        var receiptHex = DeltaRows.Hex(receipt);
        return new DeltaStatusResult
        {
            RecordId = RecordIds.Format(id),
            AnchorId = RecordIds.Format(id),
            Status = status,
            CustomerId = customerId,
            CustomerReference = CustomerReference.Format(reference),
            Delta = count == 1 ? deltas[0].Delta : null,
            NetDelta = Amount.FromUnits(net),
            ReceiptId = receiptHex,
            ItemsRoot = receiptHex,
            ItemHash = count == 1 ? deltas[0].ItemHash : null,
            ItemHashes = deltas.Select(d => d.ItemHash).ToList(),
            SequenceNumber = firstSeq,
            Index = firstDelta - 1,
            DeltaCount = count,
            Deltas = deltas,
            ReceivedAt = Timestamps.Format(acceptedAt),
            VerifiedAt = checkpoint?.SignedAt,
            Log = new LogPosition { Origin = origin, LeafIndex = leaf },
            Checkpoint = checkpoint,
        };
    }
}
