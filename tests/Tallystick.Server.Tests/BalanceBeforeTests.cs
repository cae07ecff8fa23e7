using Microsoft.Data.Sqlite;
using Tallystick.Server.Balances;
using Tallystick.Server.Storage;

namespace Tallystick.Server.Tests;

// Goal: "the balance before time T" (the base of every time-scoped derive, compare and breakdown) is right without a
// time index: ScopeWindow.Before binary-searches the customer's records by sequence number.
// Method: seeded random histories (records of 1-5 deltas, acceptance times that repeat within a millisecond and
// jump), checked for every interesting T against a naive oracle that scans the customer's records in time order.
public sealed class BalanceBeforeTests : IDisposable
{
    private readonly string _dir = Path.Combine(Path.GetTempPath(), "tally-before-" + Guid.NewGuid().ToString("N"));

    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    [InlineData(3)]
    [InlineData(4)]
    public void Before_MatchesNaiveScan_ForEveryBoundary(int seed)
    {
        using var database = new Database(_dir);
        var random = new Random(seed);
        var histories = new Dictionary<long, List<(long FirstSeq, int Count, decimal BalanceAfter, long At)>>();
        using (var connection = database.Open())
        using (var transaction = connection.BeginTransaction())
        {
            using var insert = connection.CreateCommand();
            insert.CommandText = "INSERT INTO records (id, plane_id, customer, leaf_index, receipt, first_delta, first_seq, " +
                "delta_count, net_units, balance_after, accepted_at) VALUES ($id, 1, $c, $id, zeroblob(32), $fd, $fs, $n, 0, $b, $at)";
            long id = 0, firstDelta = 1, at = 1_700_000_000_000;
            for (var i = 0; i < 600; i++)
            {
                at += random.Next(4) == 0 ? 0 : random.Next(1, 1000); // ties within one millisecond are common
                var customer = (long)random.Next(1, 4);
                var history = histories.TryGetValue(customer, out var h) ? h : histories[customer] = [];
                var firstSeq = history.Count == 0 ? 0 : history[^1].FirstSeq + history[^1].Count;
                var count = random.Next(1, 6);
                var balance = (history.Count == 0 ? 0 : history[^1].BalanceAfter) + random.Next(-500, 500) / 4m;
                id++;
                insert.Parameters.Clear();
                insert.Parameters.AddWithValue("$id", id);
                insert.Parameters.AddWithValue("$c", customer);
                insert.Parameters.AddWithValue("$fd", firstDelta);
                insert.Parameters.AddWithValue("$fs", firstSeq);
                insert.Parameters.AddWithValue("$n", count);
                insert.Parameters.AddWithValue("$b", balance.ToString(System.Globalization.CultureInfo.InvariantCulture));
                insert.Parameters.AddWithValue("$at", at);
                insert.ExecuteNonQuery();
                firstDelta += count;
                history.Add((firstSeq, count, balance, at));
            }
            transaction.Commit();
        }

        using var read = database.Open();
        var checkedPoints = 0;
        foreach (var (customer, history) in histories)
        {
            var count = history[^1].FirstSeq + history[^1].Count;
            var times = history.SelectMany(r => new[] { r.At - 1, r.At, r.At + 1 }).Append(0).Append(long.MaxValue);
            foreach (var t in times)
            {
                var expected = Naive(read, customer, t);
                var actual = ScopeWindow.Before(read, customer, count, t);
                Assert.Equal(expected, actual);
                checkedPoints++;
            }
        }
        Assert.True(checkedPoints > 1800, $"only {checkedPoints} points checked");
    }

    [Fact]
    public void Before_CustomerWithoutRecords_IsZero()
    {
        using var database = new Database(_dir);
        using var connection = database.Open();

        Assert.Equal(default, ScopeWindow.Before(connection, 42, 0, long.MaxValue));
    }

    /// <summary>The pre-binary-search definition: the last record accepted before T, by time then id.</summary>
    private static BalancePoint Naive(SqliteConnection connection, long customer, long t)
    {
        using var command = connection.CreateCommand();
        command.CommandText = "SELECT first_seq + delta_count, balance_after FROM records WHERE customer = $c AND " +
            "accepted_at < $t ORDER BY accepted_at DESC, id DESC LIMIT 1";
        command.Parameters.AddWithValue("$c", customer);
        command.Parameters.AddWithValue("$t", t);
        using var reader = command.ExecuteReader();
        if (!reader.Read())
        {
            return default;
        }
        Assert.True(Amount.TryParse(reader.GetString(1), out var balance));
        return new BalancePoint(reader.GetInt64(0), balance);
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
