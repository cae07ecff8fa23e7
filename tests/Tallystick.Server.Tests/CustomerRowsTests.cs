using System.Text.Json;
using Microsoft.Data.Sqlite;
using Microsoft.Extensions.DependencyInjection;
using Tallystick.Server.Deltas;

namespace Tallystick.Server.Tests;

// Goal: a customer's rows read the same whether they come from customer_rows (the clustered copy in
// customer-rows.db), from the ledger's tables, or from both (a copied prefix and the rest): derive pages, customer
// activity (newest first) and checkpoint rows; and the copy is rebuilt when its file is deleted and emptied when it
// does not match the ledger under it (a restored or replaced tallystick.db).
// Method: a server whose copier never runs on its own; every answer is captured before any copy (ledger only), after
// copying a prefix that splits customers and records mid-way, and after copying everything, and compared byte for
// byte. Customers mix single deltas, multi-delta records (batches with several deltas per customer), referenceIds and
// metadata. The file tests stop the server, change the files, start again and wait for the copier.
public sealed class CustomerRowsTests : IAsyncLifetime
{
    private readonly RunningServer _server = new() { CustomerRowsMergeDelay = TimeSpan.FromDays(1) };

    public Task InitializeAsync() => _server.InitializeAsync();

    public Task DisposeAsync() => _server.DisposeAsync();

    [Fact]
    public async Task Rows_ReadTheSame_FromTheLedger_FromAPartialCopy_AndFromAFullCopy()
    {
        using var client = _server.Client();
        var lastRecord = await EmitMixedHistory(client);
        await Api.WaitVerified(client, lastRecord);
        var rows = Rows();
        Assert.Equal(1L, rows.Below); // nothing copied yet: every answer below comes from the ledger

        var fromLedger = await Answers(client);
        var durable = _server.Services.GetRequiredService<Sequencer>().Head.DeltasBelow;
        Assert.True(durable > 40, $"durable below {durable}");

        // Every prefix: boundaries inside customers' histories and inside multi-delta records.
        for (var below = 2L; below <= durable; below++)
        {
            Assert.Equal(1L, rows.MergeOnce(below));
            Assert.Equal(below, rows.Below);
            Assert.Equal(below - 1, CountCopied());
            Assert.Equal(fromLedger, await Answers(client));
        }
        Assert.Equal(0L, rows.MergeOnce(durable)); // nothing left

        // And the answers did come from the copy: a row changed there shows.
        ExecuteOnCopy("UPDATE customer_rows SET reason = 'read from the copy' WHERE seq = 0 AND delta = 1");
        var (_, derived) = await Api.Get(client, "api/v1/balance/derive/c0?limit=1");
        Assert.Equal("read from the copy", derived.GetProperty("data").GetProperty("deltas")[0].GetProperty("reason").GetString());
    }

    [Fact]
    public async Task Copier_FillsTheFile_AndRebuildsItWhenDeleted()
    {
        var (server, before) = await StartCopyingServer();
        try
        {
            foreach (var file in Directory.GetFiles(server.DataDirectory, Storage.Database.RowsFileName + "*"))
            {
                File.Delete(file);
            }
            await RestartAsync(server, async client =>
            {
                await WaitCopied(server);
                Assert.Equal(before, await Answers(client));
            });
        }
        finally
        {
            await server.DisposeAsync();
        }
    }

    [Fact]
    public async Task ACopyAheadOfTheLedger_IsEmptiedAtStart_AndCopiedAgain()
    {
        var (server, early) = await StartCopyingServer();
        var saved = Path.Combine(Path.GetTempPath(), "tally-rows-ledger-" + Guid.NewGuid().ToString("N"));
        try
        {
            Directory.CreateDirectory(saved);
            File.Copy(Path.Combine(server.DataDirectory, Storage.Database.FileName), Path.Combine(saved, Storage.Database.FileName));

            // The ledger grows and is copied; then the earlier ledger is restored under the newer copy.
            await RestartAsync(server, async client =>
            {
                var (status, body) = await Api.Post(client, "api/v1/balance/delta/batch",
                    "{\"deltas\":[" + string.Join(",", Enumerable.Range(0, 30).Select(i => Api.Emit("c0", "7"))) + "]}");
                Assert.Equal(201, status);
                await Api.WaitVerified(client, body.GetProperty("data").GetProperty("results")[29].GetProperty("recordId").GetString()!);
                await WaitCopied(server);
                Assert.NotEqual(early, await Answers(client));
            });
            foreach (var file in Directory.GetFiles(server.DataDirectory, Storage.Database.FileName + "*"))
            {
                File.Delete(file);
            }
            File.Copy(Path.Combine(saved, Storage.Database.FileName), Path.Combine(server.DataDirectory, Storage.Database.FileName));
            await RestartAsync(server, async client =>
            {
                await WaitCopied(server);
                Assert.Equal(early, await Answers(client));
            });
        }
        finally
        {
            await server.DisposeAsync();
            Directory.Delete(saved, recursive: true);
        }
    }

    /// <summary>
    /// A second server (this class's own stays stopped) whose copier runs 20 ms after emits: the mixed history emitted,
    /// copied and verified, its answers captured, and the server stopped with its data directory kept.
    /// </summary>
    private async Task<(RunningServer Server, string Answers)> StartCopyingServer()
    {
        await _server.StopAsync();
        var server = new RunningServer { CustomerRowsMergeDelay = TimeSpan.FromMilliseconds(20) };
        await server.InitializeAsync();
        string answers;
        using (var client = server.Client())
        {
            await Api.WaitVerified(client, await EmitMixedHistory(client));
            await WaitCopied(server);
            answers = await Answers(client);
        }
        await server.StopAsync();
        return (server, answers);
    }

    private CustomerRows Rows() => _server.Services.GetRequiredService<CustomerRows>();

    private long CountCopied() => (long)ExecuteOnCopy("SELECT count(*) FROM customer_rows")!;

    private object? ExecuteOnCopy(string sql)
    {
        using var connection = new SqliteConnection($"Data Source={Path.Combine(_server.DataDirectory, Storage.Database.RowsFileName)};Pooling=False");
        connection.Open();
        using var command = connection.CreateCommand();
        command.CommandText = sql;
        return command.ExecuteScalar();
    }

    /// <summary>Starts the stopped server again on its data directory, runs <paramref name="check"/>, stops it.</summary>
    private static async Task RestartAsync(RunningServer server, Func<HttpClient, Task> check)
    {
        await server.InitializeAsync();
        try
        {
            using var client = server.Client();
            await check(client);
        }
        finally
        {
            await server.StopAsync();
        }
    }

    private static async Task WaitCopied(RunningServer server)
    {
        var head = server.Services.GetRequiredService<Sequencer>();
        var rows = server.Services.GetRequiredService<CustomerRows>();
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(15);
        while (rows.Below < head.Head.DeltasBelow)
        {
            Assert.True(DateTime.UtcNow < deadline, $"customer_rows below {rows.Below}, durable below {head.Head.DeltasBelow}");
            await Task.Delay(10);
        }
    }

    /// <summary>
    /// Four customers, interleaved so that ids alternate between them: c0 with 30 single-delta records, c1 with
    /// records of 1–5 deltas (batches, one with c3's only delta), c2 with referenceIds and metadata. Returns the last
    /// record id.
    /// </summary>
    private static async Task<string> EmitMixedHistory(HttpClient client)
    {
        string last = "";
        for (var i = 0; i < 30; i++)
        {
            var (status, body) = await Api.Post(client, "api/v1/balance/delta", Api.Emit("c0", $"{i + 1}.25"));
            Assert.Equal(201, status);
            last = body.GetProperty("data").GetProperty("recordId").GetString()!;
            if (i % 6 == 1)
            {
                var size = (i / 6) + 1;
                var items = Enumerable.Range(0, size).Select(j => Api.Emit("c1", $"-{size}.{j}", $"batch {size} item {j}"));
                if (size == 3)
                {
                    items = items.Append(Api.Emit("c3", "0.5", "solo"));
                }
                (status, body) = await Api.Post(client, "api/v1/balance/delta/batch", "{\"deltas\":[" + string.Join(",", items) + "]}");
                Assert.Equal(201, status);
                last = body.GetProperty("data").GetProperty("results")[0].GetProperty("recordId").GetString()!;
            }
            if (i % 5 == 3)
            {
                var json = $"{{\"customerId\":\"c2\",\"delta\":{i + 10},\"reason\":\"with ref\",\"referenceId\":\"ref-{i}\"," +
                    $"\"metadata\":{{\"n\":{i},\"tags\":[\"a\",\"b\"]}}}}";
                (status, body) = await Api.Post(client, "api/v1/balance/delta", json);
                Assert.Equal(201, status);
                last = body.GetProperty("data").GetProperty("recordId").GetString()!;
            }
        }
        return last;
    }

    /// <summary>Every row-reading answer, concatenated: derive pages across the copy's boundaries, customer activity
    /// pages (newest first) and a checkpoint's rows.</summary>
    private static async Task<string> Answers(HttpClient client)
    {
        var paths = new List<string>
        {
            "api/v1/balance/derive/c0", "api/v1/balance/derive/c0?limit=7&offset=5", "api/v1/balance/derive/c0?offset=29",
            "api/v1/balance/derive/c1", "api/v1/balance/derive/c1?limit=3&offset=2", "api/v1/balance/derive/c1?limit=4&offset=6", "api/v1/balance/derive/c2",
            "api/v1/balance/derive/c3", "api/v1/balance/customers/c0?deltaLimit=4&deltaPage=2",
            "api/v1/balance/customers/c1?deltaLimit=5", "api/v1/balance/customers/c2",
        };
        var parts = new List<string>();
        foreach (var path in paths)
        {
            var (status, body) = await Api.Get(client, path);
            Assert.True(status == 200, $"{path}: {status} {body}");
            parts.Add(path + " " + Stable(body));
        }
        return string.Join("\n", parts);
    }

    /// <summary>The answer without what moves between two reads of an unchanged ledger (the latest checkpoint).</summary>
    private static string Stable(JsonElement body)
    {
        var node = System.Text.Json.Nodes.JsonNode.Parse(body.GetRawText())!;
        node["data"]!.AsObject().Remove("checkpoint");
        return node.ToJsonString();
    }
}
