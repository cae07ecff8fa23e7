using System.Globalization;
using System.Text.Json;
using Microsoft.Extensions.DependencyInjection;
using Tallystick.Merkle;
using Tallystick.Notes;
using Tallystick.Proofs;
using Tallystick.Server.TransparencyLog;

namespace Tallystick.Server.Tests;

// Goal: a period checkpoint commits exactly the customer's verified deltas in its window, states the right
// balances, is signed (token verifies offline with the log key) and anchored in the log (its 0x02 entry is
// included under a signed tree checkpoint), and repeating a window returns the original.
// Oracles: the root is recomputed from the item hashes derive returns, balances from the emitted amounts, the
// entry's inclusion with Core's RFC 6962 verifier against /log/checkpoint.
public sealed class CheckpointTests(RunningServer server) : IClassFixture<RunningServer>
{
    private NoteVerifier LogKey => server.Services.GetRequiredService<LogIdentity>().Verifier;

    private static async Task<List<JsonElement>> EmitAll(HttpClient client, string customer, IEnumerable<string> amounts)
    {
        var items = string.Join(",", amounts.Select(a => Api.Emit(customer, a)));
        var (status, body) = await Api.Post(client, "api/v1/balance/delta/batch", $"{{\"deltas\":[{items}]}}");
        Assert.Equal(201, status);
        var results = body.GetProperty("data").GetProperty("results").EnumerateArray().ToList();
        await Api.WaitVerified(client, results[^1].GetProperty("recordId").GetString()!);
        return results;
    }

    [Fact]
    public async Task Checkpoint_OneCustomerAllVerified_CommitsRootBalancesTokenAndLogEntry()
    {
        using var client = server.Client();
        await EmitAll(client, "chk_a", ["10", "-2.5", "0.25"]);
        await EmitAll(client, "chk_a", ["5", "-1"]);

        var (status, body) = await Api.Post(client, "api/v1/balance/checkpoint", "{\"customerId\":\"chk_a\"}");

        Assert.Equal(201, status);
        var data = body.GetProperty("data");
        Assert.StartsWith("chk_", data.GetProperty("checkpointId").GetString(), StringComparison.Ordinal);
        Assert.Equal(5, data.GetProperty("deltaCount").GetInt64());
        Assert.Equal(0, data.GetProperty("fromSequence").GetInt64());
        Assert.Equal(5, data.GetProperty("toSequence").GetInt64());
        Assert.Equal("0", data.GetProperty("startingBalance").GetRawText());
        Assert.Equal("11.75", data.GetProperty("endingBalance").GetRawText());
        var (_, derive) = await Api.Get(client, "api/v1/balance/derive/chk_a");
        var hashes = derive.GetProperty("data").GetProperty("deltas").EnumerateArray()
            .Select(d => Convert.FromHexString(d.GetProperty("itemHash").GetString()![2..])).ToList();
        var root = "0x" + Convert.ToHexStringLower(MerkleTree.RootFromLeafHashes(hashes));
        Assert.Equal(root, data.GetProperty("proofRoot").GetString());
        Assert.Equal(root, data.GetProperty("proofHash").GetString());

        var statement = ProofToken.Verify(data.GetProperty("proofToken").GetString()!, LogKey, out var failure);
        Assert.Null(failure);
        Assert.Equal(derive.GetProperty("data").GetProperty("customerReference").GetString(), statement!.CustomerReference);
        Assert.Equal(Amount.FromDecimal(11.75m), statement.EndingBalance);
        Assert.Equal(data.GetProperty("logIndex").GetInt64(), statement.LogIndex);

        // The 0x02 entry is in the log, under a signed checkpoint, once the log has caught up.
        var leaf = Rfc6962.HashLeaf(statement.LogEntry());
        var deadline = DateTime.UtcNow.AddSeconds(10);
        JsonElement proof;
        while (true)
        {
            var (proofStatus, proofBody) = await Api.Get(client, $"log/proof/inclusion?index={statement.LogIndex}");
            if (proofStatus == 200)
            {
                proof = proofBody.GetProperty("data");
                break;
            }
            Assert.True(DateTime.UtcNow < deadline, "checkpoint entry not covered by a signed checkpoint in 10 s");
            await Task.Delay(20);
        }
        var note = await client.GetStringAsync(new Uri("log/checkpoint", UriKind.Relative));
        Assert.True(Checkpoint.TryVerify(note, LogKey, LogKey.Name, out var signed).IsValid);
        var size = proof.GetProperty("size").GetInt64();
        var path = proof.GetProperty("proof").EnumerateArray().Select(p => Convert.FromHexString(p.GetString()![2..])).ToList();
        var computed = MerkleProof.RootFromInclusionProof(statement.LogIndex, size, leaf, path);
        Assert.Equal(proof.GetProperty("rootHash").GetString(), "0x" + Convert.ToHexStringLower(computed));
        Assert.True(signed!.Size >= size);

        var (_, fetched) = await Api.Get(client, "api/v1/balance/checkpoints/" + data.GetProperty("checkpointId").GetString());
        Assert.Equal("VERIFIED", fetched.GetProperty("data").GetProperty("status").GetString());
    }

    [Fact]
    public async Task Checkpoint_SameWindowTwice_IsIdempotent_NewDeltasMakeANewOne()
    {
        using var client = server.Client();
        await EmitAll(client, "chk_b", ["1", "2"]);
        var (first, a) = await Api.Post(client, "api/v1/balance/checkpoint", "{\"customerId\":\"chk_b\"}");
        var (second, b) = await Api.Post(client, "api/v1/balance/checkpoint", "{\"customerId\":\"chk_b\"}");

        Assert.Equal(201, first);
        Assert.Equal(200, second);
        Assert.True(b.GetProperty("data").GetProperty("idempotent").GetBoolean());
        Assert.Equal(a.GetProperty("data").GetProperty("checkpointId").GetString(), b.GetProperty("data").GetProperty("checkpointId").GetString());
        Assert.Equal(a.GetProperty("data").GetProperty("proofToken").GetString(), b.GetProperty("data").GetProperty("proofToken").GetString());

        await EmitAll(client, "chk_b", ["3"]);
        var (third, c) = await Api.Post(client, "api/v1/balance/checkpoint", "{\"customerId\":\"chk_b\"}");
        Assert.Equal(201, third);
        Assert.NotEqual(a.GetProperty("data").GetProperty("checkpointId").GetString(), c.GetProperty("data").GetProperty("checkpointId").GetString());
        Assert.Equal(3, c.GetProperty("data").GetProperty("deltaCount").GetInt64());

        var (_, list) = await Api.Get(client, "api/v1/balance/checkpoints?customerId=chk_b");
        Assert.Equal(2, list.GetProperty("data").GetProperty("pagination").GetProperty("total").GetInt64());
    }

    [Fact]
    public async Task Checkpoint_IndexWindow_CoversExactlyTheCustomersDeltasInIt()
    {
        using var client = server.Client();
        // Alternate two customers' single emits so their global indices interleave.
        string? last = null;
        for (var i = 1; i <= 6; i++)
        {
            await Api.Post(client, "api/v1/balance/delta", Api.Emit("chk_w1", i.ToString(CultureInfo.InvariantCulture)));
            var (_, emitted) = await Api.Post(client, "api/v1/balance/delta", Api.Emit("chk_w2", (i * 10).ToString(CultureInfo.InvariantCulture)));
            last = emitted.GetProperty("data").GetProperty("recordId").GetString();
        }
        await Api.WaitVerified(client, last!);
        var (_, rows) = await Api.Get(client, "api/v1/balance/derive/chk_w1");
        var indices = rows.GetProperty("data").GetProperty("deltas").EnumerateArray().Select(d => d.GetProperty("index").GetInt64()).ToList();
        // [chk_w2's 1st delta, chk_w2's 4th delta]: chk_w1's 2nd..4th deltas (amounts 2, 3, 4) lie inside.
        var from = indices[1] - 1;
        var to = indices[3] + 1;

        var (created, one) = await Api.Post(client, "api/v1/balance/checkpoint",
            $"{{\"customerId\":\"chk_w1\",\"fromIndex\":{from},\"toIndex\":{to}}}");

        Assert.Equal(201, created);
        var data = one.GetProperty("data");
        Assert.Equal(1, data.GetProperty("fromSequence").GetInt64());
        Assert.Equal(4, data.GetProperty("toSequence").GetInt64());
        Assert.Equal("1", data.GetProperty("startingBalance").GetRawText());
        Assert.Equal("10", data.GetProperty("endingBalance").GetRawText());
        Assert.Equal(indices[1], data.GetProperty("fromIndex").GetInt64());
        Assert.Equal(indices[3], data.GetProperty("toIndex").GetInt64());

        // Without customerId: every customer active in the window, one checkpoint each.
        var (all, many) = await Api.Post(client, "api/v1/balance/checkpoint", $"{{\"fromIndex\":{from},\"toIndex\":{to}}}");
        Assert.Equal(201, all);
        var checkpoints = many.GetProperty("data").GetProperty("checkpoints").EnumerateArray().ToList();
        Assert.Equal(["chk_w1", "chk_w2"], checkpoints.Select(c => c.GetProperty("customerId").GetString()!).ToArray());
        Assert.True(checkpoints[0].GetProperty("idempotent").GetBoolean());
        var w2 = checkpoints[1];
        Assert.Equal(0, w2.GetProperty("fromSequence").GetInt64());
        Assert.Equal(4, w2.GetProperty("toSequence").GetInt64());
        Assert.Equal("0", w2.GetProperty("startingBalance").GetRawText());
        Assert.Equal("100", w2.GetProperty("endingBalance").GetRawText());
        Assert.Equal(from, w2.GetProperty("fromIndex").GetInt64());
        Assert.Equal(to, w2.GetProperty("toIndex").GetInt64());
    }

    [Fact]
    public async Task Receipt_Unscoped_IsTheAllVerifiedCheckpoint_SameRootEveryTime()
    {
        using var client = server.Client();
        await EmitAll(client, "chk_r", ["3", "4", "-1"]);

        var (status, body) = await Api.Get(client, "api/v1/balance/receipt/chk_r?limit=2");
        var (againStatus, again) = await Api.Get(client, "api/v1/balance/receipt/chk_r");

        Assert.Equal(200, status);
        Assert.Equal(200, againStatus);
        var data = body.GetProperty("data");
        Assert.Equal("all_time", data.GetProperty("period").GetString());
        Assert.Equal(3, data.GetProperty("deltasCount").GetInt64());
        Assert.Equal("6", data.GetProperty("finalBalance").GetRawText());
        Assert.Equal("0", data.GetProperty("startingBalance").GetRawText());
        Assert.Equal(2, data.GetProperty("deltas").GetArrayLength());
        Assert.Equal(3, data.GetProperty("pagination").GetProperty("total").GetInt64());
        var root = data.GetProperty("proofRoot").GetString()!;
        Assert.Equal(root, again.GetProperty("data").GetProperty("proofRoot").GetString());
        Assert.Equal(data.GetProperty("checkpointId").GetString(), again.GetProperty("data").GetProperty("checkpointId").GetString());
        Assert.EndsWith("/verify/" + root, data.GetProperty("verifyUrl").GetString(), StringComparison.Ordinal);
        Assert.EndsWith("/api/v1/verify/" + root, data.GetProperty("verificationApiUrl").GetString(), StringComparison.Ordinal);
        Assert.NotNull(ProofToken.Verify(data.GetProperty("proofToken").GetString()!, LogKey, out _));
        // The same window through POST /checkpoint is the same checkpoint.
        var (_, created) = await Api.Post(client, "api/v1/balance/checkpoint", "{\"customerId\":\"chk_r\"}");
        Assert.True(created.GetProperty("data").GetProperty("idempotent").GetBoolean());
        Assert.Equal(root, created.GetProperty("data").GetProperty("proofRoot").GetString());

        var (missing, notFound) = await Api.Get(client, "api/v1/balance/invoice-proof/nobody_here?period=2026-01");
        Assert.Equal(404, missing);
        Assert.Equal("CUSTOMER_NOT_FOUND", Api.Code(notFound));
    }

    [Fact]
    public async Task TallyVerify_ProofToken_VerifiesOfflineAndRefusesATamperedOne()
    {
        using var client = server.Client();
        await EmitAll(client, "chk_cli", ["4", "-1.5"]);
        var (_, created) = await Api.Post(client, "api/v1/balance/checkpoint", "{\"customerId\":\"chk_cli\"}");
        var token = created.GetProperty("data").GetProperty("proofToken").GetString()!;

        var (exit, output, _) = await CliTests.Tally("verify", token, "--log-key", LogKey.VerifierKeyText);
        Assert.Equal(0, exit);
        Assert.Contains("VERIFIED", output, StringComparison.Ordinal);
        Assert.Contains("balance     0 -> 2.5", output, StringComparison.Ordinal);
        var (jsonExit, json, _) = await CliTests.Tally("verify", token, "--log-key", LogKey.VerifierKeyText, "--json");
        Assert.Equal(0, jsonExit);
        Assert.True(JsonDocument.Parse(json).RootElement.GetProperty("verified").GetBoolean());

        var tampered = token[..^3] + (token[^3] == 'A' ? 'B' : 'A') + token[^2..];
        var (badExit, _, error) = await CliTests.Tally("verify", tampered, "--log-key", LogKey.VerifierKeyText);
        Assert.Equal(3, badExit);
        Assert.Contains("NOT VERIFIED", error, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("{\"customerId\":\"nobody_here\"}", 404, "CUSTOMER_NOT_FOUND")]
    [InlineData("{\"customerId\":\"bad id!\"}", 400, "INVALID_CUSTOMER_ID")]
    [InlineData("{\"fromIndex\":5}", 400, "MISSING_FIELD")]
    [InlineData("{\"fromIndex\":9,\"toIndex\":3}", 400, "VALIDATION_ERROR")]
    [InlineData("{\"fromIndex\":-1,\"toIndex\":3}", 400, "VALIDATION_ERROR")]
    [InlineData("{\"fromIndex\":0,\"toIndex\":2000000}", 400, "SCOPE_TOO_WIDE")]
    [InlineData("{\"customerId\":\"chk_a\",\"period\":\"2026-13\"}", 400, "INVALID_PERIOD")]
    [InlineData("{\"customerId\":\"chk_a\",\"surprise\":1}", 400, "UNKNOWN_FIELD")]
    [InlineData("{\"fromIndex\":900000000,\"toIndex\":900000001}", 400, "EMPTY_WINDOW")]
    [InlineData("[1]", 400, "INVALID_BODY")]
    [InlineData("{", 400, "MALFORMED_JSON")]
    public async Task Checkpoint_BadRequests_AreRefusedPrecisely(string json, int status, string code)
    {
        using var client = server.Client();
        var (actual, body) = await Api.Post(client, "api/v1/balance/checkpoint", json);
        Assert.Equal(status, actual);
        Assert.Equal(code, Api.Code(body));
    }

    [Fact]
    public async Task Checkpoints_AreTenantScoped()
    {
        using var client = server.Client();
        await EmitAll(client, "chk_t", ["7"]);
        var (_, created) = await Api.Post(client, "api/v1/balance/checkpoint", "{\"customerId\":\"chk_t\"}");
        var id = created.GetProperty("data").GetProperty("checkpointId").GetString();

        using var other = server.Client(RunningServer.GlobexTest);
        var (status, body) = await Api.Get(other, "api/v1/balance/checkpoints/" + id);
        Assert.Equal(404, status);
        Assert.Equal("CHECKPOINT_NOT_FOUND", Api.Code(body));
        var (_, list) = await Api.Get(other, "api/v1/balance/checkpoints");
        Assert.Equal(0, list.GetProperty("data").GetProperty("count").GetInt64());
        var (missing, _) = await Api.Post(other, "api/v1/balance/checkpoint", "{\"customerId\":\"chk_t\"}");
        Assert.Equal(404, missing);
    }
}
