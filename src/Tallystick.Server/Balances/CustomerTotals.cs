using Microsoft.Data.Sqlite;
using Tallystick.Server.Storage;

namespace Tallystick.Server.Balances;

/// <summary>
/// A customer's totals, read from the running totals kept on each record: two index seeks whatever the
/// number of deltas. Verified totals stop at the last record below the published checkpoint size.
/// </summary>
internal sealed record CustomerTotals(
    long CustomerKey,
    string CustomerId,
    byte[] Reference,
    long FirstAtUnixMs,
    long LastAtUnixMs,
    long AcceptedCount,
    Amount AcceptedBalance,
    long VerifiedCount,
    Amount VerifiedBalance,
    long? LastVerifiedIndex,
    byte[]? LatestVerifiedReceipt)
{
    public static CustomerTotals? Read(SqliteConnection connection, long plane, string customerId, long checkpointSize)
    {
        var command = connection.Prepared("SELECT id, reference, first_at FROM customers WHERE plane_id = $p AND customer_id = $c");
        command.Parameters.AddWithValue("$p", plane);
        command.Parameters.AddWithValue("$c", customerId);
        long key, firstAt;
        byte[] reference;
        using (var reader = command.ExecuteReader())
        {
            if (!reader.Read())
            {
                return null;
            }
            key = reader.GetInt64(0);
            reference = (byte[])reader[1];
            firstAt = reader.GetInt64(2);
        }
        return ReadTotals(connection, key, customerId, reference, firstAt, checkpointSize);
    }

    public static CustomerTotals ReadTotals(SqliteConnection connection, long key, string customerId, byte[] reference,
        long firstAt, long checkpointSize)
    {
        var accepted = Latest(connection, key, long.MaxValue);
        var verified = Latest(connection, key, checkpointSize);
        return new CustomerTotals(key, customerId, reference, firstAt, accepted?.AcceptedAt ?? firstAt,
            accepted?.Count ?? 0, accepted?.Balance ?? Amount.Zero, verified?.Count ?? 0, verified?.Balance ?? Amount.Zero,
            verified?.LastIndex, verified?.Receipt);
    }

    private sealed record Point(long Count, Amount Balance, long LastIndex, byte[] Receipt, long AcceptedAt);

    private static Point? Latest(SqliteConnection connection, long key, long leafBelow)
    {
        var command = connection.Prepared("""
            SELECT first_seq + delta_count, balance_after, first_delta + delta_count - 2, receipt, accepted_at
            FROM records WHERE customer = $k AND leaf_index < $below ORDER BY first_seq DESC LIMIT 1
            """);
        command.Parameters.AddWithValue("$k", key);
        command.Parameters.AddWithValue("$below", leafBelow);
        using var reader = command.ExecuteReader();
        if (!reader.Read())
        {
            return null;
        }
        if (!Amount.TryParse(reader.GetString(1), out var balance))
        {
            throw new InvalidOperationException($"stored balance '{reader.GetString(1)}' is not a decimal");
        }
        return new Point(reader.GetInt64(0), balance, reader.GetInt64(2), (byte[])reader[3], reader.GetInt64(4));
    }
}
