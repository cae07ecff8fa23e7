using System.Collections.Concurrent;
using Microsoft.Data.Sqlite;
using Tallystick.Merkle;
using Tallystick.Notes;

namespace Tallystick.Server.Tests;

// Goal: a 2xx means the delta is on disk. kill -9 at any moment loses no acknowledged delta and leaves no
// half-applied batch; after restart everything acknowledged becomes VERIFIED and the new checkpoint is
// consistent with every earlier one. SIGTERM drains, flushes and exits 0.
// Method: real `tally serve` child processes under sustained concurrent emits (single and batch); kill at a
// seeded random moment, restart on the same data directory, then check every acknowledged record through the
// API and recompute every stored checkpoint root from the stored log entries (an independent oracle).
public sealed class CrashTests : IDisposable
{
    private readonly string _data = Path.Combine(Path.GetTempPath(), "tally-crash-" + Guid.NewGuid().ToString("N"));

    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    [InlineData(3)]
    public async Task KillDuringEmits_AcknowledgedDeltasSurviveAndVerify(int seed)
    {
        var random = new Random(seed);
        var acknowledged = new ConcurrentBag<(string RecordId, string Customer, int Count)>();
        var rounds = 2;
        for (var round = 0; round < rounds; round++)
        {
            using var server = await ServerProcess.Start(_data);
            using var stop = new CancellationTokenSource();
            var before = acknowledged.Count;
            var writers = Enumerable.Range(0, 8).Select(w => Emitter(server, $"s{seed}r{round}w{w}", acknowledged, stop.Token)).ToList();
            // Kill during sustained emits: once answers flow (a fresh process on a loaded machine can take over a
            // second to answer its first request), at a seeded random moment after that.
            await WaitUntil(() => acknowledged.Count > before, TimeSpan.FromSeconds(30));
            await Task.Delay(random.Next(0, 900));
            server.Kill();
            await stop.CancelAsync();
            await Task.WhenAll(writers);
        }
        Assert.NotEmpty(acknowledged);

        using var restarted = await ServerProcess.Start(_data);
        using var client = restarted.Client();
        foreach (var (recordId, customer, count) in acknowledged)
        {
            var record = await Api.WaitVerified(client, recordId);
            Assert.Equal(customer, record.GetProperty("customerId").GetString());
            Assert.Equal(count, record.GetProperty("deltaCount").GetInt32());
        }
        // Nothing acknowledged is lost. A request can commit and then lose its answer to the kill, so a customer
        // may hold more than was acknowledged — but only whole requests: every record holds 1 or 5 deltas and
        // every one of them is stored.
        foreach (var group in acknowledged.GroupBy(a => a.Customer))
        {
            var (_, derive) = await Api.Get(client, $"api/v1/balance/derive/{group.Key}");
            Assert.True(derive.GetProperty("data").GetProperty("deltasCount").GetInt64() >= group.Sum(g => g.Count));
        }
        AssertNoPartialRecords(_data);
        restarted.Terminate();
        Assert.Equal(0, await restarted.WaitForExit(TimeSpan.FromSeconds(30)));
        AssertLogConsistent(_data);
        // The operator's fsck agrees, including the flat tile files the killed servers were appending to (when the
        // log got past 256 entries, which depends on how fast this machine answered before the kills).
        var (fsck, _, problems) = await CliTests.Tally("log", "verify", "--data", _data);
        Assert.True(fsck == 0, problems);
    }

    [Fact]
    public async Task SigtermUnderLoad_DrainsFlushesAndExitsZero()
    {
        var acknowledged = new ConcurrentBag<(string RecordId, string Customer, int Count)>();
        using (var server = await ServerProcess.Start(_data))
        {
            using var stop = new CancellationTokenSource();
            var writers = Enumerable.Range(0, 8).Select(w => Emitter(server, $"term{w}", acknowledged, stop.Token)).ToList();
            await WaitUntil(() => !acknowledged.IsEmpty, TimeSpan.FromSeconds(30));
            await Task.Delay(300);
            server.Terminate();
            Assert.Equal(0, await server.WaitForExit(TimeSpan.FromSeconds(30)));
            await stop.CancelAsync();
            await Task.WhenAll(writers);
        }
        Assert.NotEmpty(acknowledged);
        // After a clean stop every acknowledged delta is already covered by the final checkpoint.
        using var connection = new SqliteConnection($"Data Source={Path.Combine(_data, "tallystick.db")};Pooling=False");
        connection.Open();
        using var command = connection.CreateCommand();
        command.CommandText = "SELECT (SELECT max(size) FROM checkpoints) = (SELECT count(*) FROM log_entries)";
        Assert.Equal(1L, (long)command.ExecuteScalar()!);
        AssertLogConsistent(_data);
    }

    private static async Task Emitter(ServerProcess server, string prefix, ConcurrentBag<(string, string, int)> acknowledged,
        CancellationToken stop)
    {
        using var client = server.Client();
        for (var i = 0; !stop.IsCancellationRequested; i++)
        {
            var customer = $"{prefix}_{i % 3}";
            var batch = i % 4 == 0;
            var count = batch ? 5 : 1;
            var body = batch
                ? "{\"deltas\":[" + string.Join(",", Enumerable.Range(0, count).Select(k => Api.Emit(customer, "1.5"))) + "]}"
                : Api.Emit(customer, "-0.25");
            try
            {
                var (status, answer) = await Api.Post(client, batch ? "api/v1/balance/delta/batch" : "api/v1/balance/delta", body);
                if (status != 201)
                {
                    continue;
                }
                var data = answer.GetProperty("data");
                var recordId = batch ? data.GetProperty("results")[0].GetProperty("recordId").GetString()! : data.GetProperty("recordId").GetString()!;
                acknowledged.Add((recordId, customer, count));
            }
            catch (Exception e) when (e is HttpRequestException or TaskCanceledException or IOException)
            {
                return; // The server went away: nothing acknowledged for this request.
            }
        }
    }

    private static void AssertNoPartialRecords(string data)
    {
        using var connection = new SqliteConnection($"Data Source={Path.Combine(data, "tallystick.db")};Pooling=False");
        connection.Open();
        using var command = connection.CreateCommand();
        command.CommandText = """
            SELECT count(*) FROM records r
            WHERE r.delta_count NOT IN (1, 5)
               OR r.delta_count <> (SELECT count(*) FROM deltas d WHERE d.record = r.id)
               OR r.net_units <> (SELECT sum(d.amount_units) FROM deltas d WHERE d.record = r.id)
            """;
        Assert.Equal(0L, (long)command.ExecuteScalar()!);
    }

    /// <summary>Recomputes every stored checkpoint's root from the stored entries and verifies its signature.</summary>
    private static void AssertLogConsistent(string data)
    {
        var verifier = NoteSigner.Parse(File.ReadAllText(Path.Combine(data, "log.key")).Trim()).Verifier;
        using var connection = new SqliteConnection($"Data Source={Path.Combine(data, "tallystick.db")};Pooling=False");
        connection.Open();
        var leaves = new List<byte[]>();
        using (var entries = connection.CreateCommand())
        {
            entries.CommandText = "SELECT idx, entry FROM log_entries ORDER BY idx";
            using var reader = entries.ExecuteReader();
            while (reader.Read())
            {
                Assert.Equal(leaves.Count, reader.GetInt64(0));
                leaves.Add(Rfc6962.HashLeaf((byte[])reader[1]));
            }
        }
        using var checkpoints = connection.CreateCommand();
        checkpoints.CommandText = "SELECT size, root, note FROM checkpoints ORDER BY size";
        using var rows = checkpoints.ExecuteReader();
        var count = 0;
        while (rows.Read())
        {
            var size = (int)rows.GetInt64(0);
            var expected = MerkleTree.RootFromLeafHashes(leaves.GetRange(0, size));
            Assert.Equal(Convert.ToHexString(expected), Convert.ToHexString((byte[])rows[1]));
            var result = Checkpoint.TryVerify(rows.GetString(2), verifier, verifier.Name, out var parsed);
            Assert.True(result.IsValid, result.Error);
            Assert.Equal(size, parsed!.Size);
            count++;
        }
        Assert.True(count > 1);
    }

    private static async Task WaitUntil(Func<bool> condition, TimeSpan timeout)
    {
        var deadline = DateTime.UtcNow + timeout;
        while (!condition())
        {
            Assert.True(DateTime.UtcNow < deadline, $"no emit was acknowledged within {timeout.TotalSeconds:0} s");
            await Task.Delay(10);
        }
    }

    public void Dispose()
    {
        SqliteConnection.ClearAllPools();
        try
        {
            Directory.Delete(_data, recursive: true);
        }
        catch (IOException)
        {
        }
    }
}
