using Microsoft.Data.Sqlite;
using Tallystick.Server.Storage;

namespace Tallystick.Server.Deltas;

/// <summary>
/// Finds a record by its receipt root (public verify) through <c>records_by_receipt_epoch</c>, an index on
/// (record id &gt;&gt; <see cref="EpochBits"/>, first 8 bytes of the receipt).
/// </summary>
/// <remarks>
/// Receipt roots are random, so an index keyed by the root alone takes each new record at a random place: at scale
/// every record dirties its own index page, written to the WAL at commit and again at checkpoint. Leading with the
/// record's epoch (<see cref="EpochRecords"/> consecutive records) confines new entries to the current epoch's small
/// subtree, whatever the size of the ledger. The price is on the rare read: one index seek per epoch
/// (about 150 seeks at 10M records), all of them for every lookup so that its time does not tell whether, or
/// how long ago, a root was recorded.
/// </remarks>
internal static class ReceiptIndex
{
    public const int EpochBits = 16;

    /// <summary>Records per epoch of the receipt index.</summary>
    public const long EpochRecords = 1L << EpochBits;

    /// <summary>The id of the record whose receipt root is <paramref name="root"/>, or null.</summary>
    public static long? FindRecord(SqliteConnection connection, SqliteTransaction? transaction, byte[] root)
    {
        var newest = connection.Prepared("SELECT coalesce(max(id), 0) FROM records");
        newest.Transaction = transaction;
        var lastEpoch = (long)newest.ExecuteScalar()! >> EpochBits;
        var probe = connection.Prepared(
            $"SELECT id FROM records WHERE id >> {EpochBits} = $e AND substr(receipt, 1, 8) = substr($root, 1, 8) " +
            "AND receipt = $root LIMIT 1");
        probe.Transaction = transaction;
        var epoch = probe.Parameters.Add("$e", SqliteType.Integer);
        probe.Parameters.AddWithValue("$root", root);
        // Every epoch is probed even after a match: a public lookup must take as long for a root that exists as for
        // one that does not, and as long for an old record as for a new one (VerifiableRoot).
        long? found = null;
        for (var e = lastEpoch; e >= 0; e--)
        {
            epoch.Value = e;
            if (probe.ExecuteScalar() is long id)
            {
                found ??= id;
            }
        }
        return found;
    }
}
