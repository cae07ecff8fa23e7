using Microsoft.Data.Sqlite;
using Tallystick.Server.Deltas;
using Tallystick.Server.Storage;

namespace Tallystick.Server.Tests;

// Goal: a receipt root finds its record through records_by_receipt_epoch in any epoch, an unknown root finds nothing,
// and the lookup is index seeks (an expression that stopped matching the index would silently scan every record).
// Method: records placed in several epochs with random receipts; the query plan is read from SQLite.
public sealed class ReceiptIndexTests : IDisposable
{
    private readonly string _dir = Path.Combine(Path.GetTempPath(), "tally-receipts-" + Guid.NewGuid().ToString("N"));

    [Fact]
    public void FindRecord_AcrossEpochs_FindsEachAndNothingElse()
    {
        using var database = new Database(_dir);
        var receipts = new Dictionary<long, byte[]>();
        long[] ids = [1, 2, ReceiptIndex.EpochRecords - 1, ReceiptIndex.EpochRecords, 3 * ReceiptIndex.EpochRecords + 7];
        using (var connection = database.Open())
        {
            using var insert = connection.CreateCommand();
            insert.CommandText = "INSERT INTO records (id, plane_id, customer, leaf_index, receipt, first_delta, first_seq, " +
                "delta_count, net_units, balance_after, accepted_at) VALUES ($id, 1, 1, $id, $r, $id, $id, 1, 0, '0', 0)";
            foreach (var id in ids)
            {
                var receipt = System.Security.Cryptography.RandomNumberGenerator.GetBytes(32);
                receipts[id] = receipt;
                insert.Parameters.Clear();
                insert.Parameters.AddWithValue("$id", id);
                insert.Parameters.AddWithValue("$r", receipt);
                insert.ExecuteNonQuery();
            }
        }

        using var read = database.Open();
        foreach (var (id, receipt) in receipts)
        {
            Assert.Equal(id, ReceiptIndex.FindRecord(read, null, receipt));
        }
        var sharesPrefix = (byte[])receipts[2].Clone();
        sharesPrefix[31] ^= 1;
        Assert.Null(ReceiptIndex.FindRecord(read, null, sharesPrefix));
        Assert.Null(ReceiptIndex.FindRecord(read, null, new byte[32]));
    }

    [Fact]
    public void FindRecord_Probe_SeeksTheEpochIndex()
    {
        using var database = new Database(_dir);
        using var connection = database.Open();
        using var plan = connection.CreateCommand();
        plan.CommandText = $"EXPLAIN QUERY PLAN SELECT id FROM records WHERE id >> {ReceiptIndex.EpochBits} = 1 AND " +
            "substr(receipt, 1, 8) = substr(zeroblob(32), 1, 8) AND receipt = zeroblob(32) LIMIT 1";
        using var reader = plan.ExecuteReader();
        var details = new List<string>();
        while (reader.Read())
        {
            details.Add(reader.GetString(3));
        }

        Assert.Contains("SEARCH records USING INDEX records_by_receipt_epoch (<expr>=? AND <expr>=?)", details);
    }

    public void Dispose()
    {
        SqliteConnection.ClearAllPools();
        try
        {
            Directory.Delete(_dir, recursive: true);
        }
        catch (IOException)
        {
        }
    }
}
