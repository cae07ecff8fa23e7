using System.Text.Json;
using Microsoft.Extensions.DependencyInjection;
using Tallystick.Deltas;
using Tallystick.Merkle;
using Tallystick.Notes;
using Tallystick.Proofs;
using Tallystick.Server.Storage;
using Tallystick.Server.Tenants;
using Tallystick.Server.Verification;

namespace Tallystick.Server.Tests;

// Goal: GET /api/v1/verify/{proofRoot} answers anyone holding a receipt root or a period checkpoint's root (or its
// proof token; no API key, whichever tenant owns it)
// with exactly what the ledger recorded, plus log evidence that proves it without trusting the server; it never
// confuses an unknown or malformed root with an error page, tells QUEUED/PROCESSING apart from VERIFIED, answers
// from the store, the log or both, and honours a tenant's summary-only setting. Method: emit over real HTTP, fetch
// the answer anonymously and re-check every link with Core's Merkle and signed-note code and the key from /log/key.
public sealed class VerifyEndpointTests(RunningServer server) : IClassFixture<RunningServer>
{
    [Fact]
    public async Task VerifiedReceipt_AnyoneAnswered_SummaryRecordsAndLogEvidenceCheckIndependently()
    {
        using var client = server.Client();
        var (_, earlier) = await Api.Post(client, "api/v1/balance/delta", Api.Emit("verify_a", "100"));
        await Api.WaitVerified(client, RecordId(earlier));
        var batch = "{\"deltas\":[" + Api.Emit("verify_a", "-42.5", "gpu", "job_1") + "," +
            Api.Emit("verify_a", "7.25", "storage") + "," + Api.Emit("verify_a", "0.00000001", "tiny", "job_3") + "]}";
        var (status, body) = await Api.Post(client, "api/v1/balance/delta/batch", batch);
        Assert.Equal(201, status);
        var first = body.GetProperty("data").GetProperty("results")[0];
        var root = first.GetProperty("receiptId").GetString()!;
        await Api.WaitVerified(client, first.GetProperty("recordId").GetString()!);

        using var anonymous = server.Client(apiKey: null);
        using var response = await anonymous.GetAsync($"api/v1/verify/{root}");
        var answer = await Api.Read(response);

        Assert.Equal(200, (int)response.StatusCode);
        Assert.True(answer.GetProperty("success").GetBoolean());
        var data = answer.GetProperty("data");
        Assert.True(data.GetProperty("verified").GetBoolean());
        Assert.Equal("VERIFIED", data.GetProperty("status").GetString());
        Assert.Equal(root, data.GetProperty("proofRoot").GetString());
        Assert.Equal("receipt", data.GetProperty("kind").GetString());
        Assert.Equal("db", data.GetProperty("source").GetString());
        Assert.Equal("records", data.GetProperty("reveal").GetString());
        var summary = data.GetProperty("summary");
        Assert.Equal(3, summary.GetProperty("recordCount").GetInt32());
        Assert.Equal(-35.24999999m, summary.GetProperty("netChange").GetDecimal());
        Assert.Equal(100m, summary.GetProperty("startingBalance").GetDecimal());
        Assert.Equal(64.75000001m, summary.GetProperty("endingBalance").GetDecimal());
        Assert.Equal(data.GetProperty("recordedAt").GetString(), summary.GetProperty("firstRecordAt").GetString());
        Assert.Equal(data.GetProperty("recordedAt").GetString(), summary.GetProperty("lastRecordAt").GetString());
        var records = data.GetProperty("records").EnumerateArray().ToList();
        Assert.Equal([-42.5m, 7.25m, 0.00000001m], records.Select(r => r.GetProperty("amount").GetDecimal()));
        Assert.Equal(["gpu", "storage", "tiny"], records.Select(r => r.GetProperty("reason").GetString()));
        Assert.Equal("job_1", records[0].GetProperty("referenceId").GetString());
        Assert.False(records[1].TryGetProperty("referenceId", out _));
        Assert.Equal([1L, 2L, 3L], records.Select(r => r.GetProperty("sequenceNumber").GetInt64()));
        Assert.All(records, r => Assert.Equal("verified", r.GetProperty("status").GetString()));
        var links = data.GetProperty("verification");
        Assert.Equal(new Uri(server.BaseAddress, $"api/v1/verify/{root}").ToString(),
            links.GetProperty("verificationApiUrl").GetString());
        Assert.Equal(new Uri(server.BaseAddress, $"verify/{root}").ToString(),
            links.GetProperty("verificationExplorerUrl").GetString());
        Assert.Equal("no-referrer", response.Headers.GetValues("Referrer-Policy").Single());

        await CheckIndependently(anonymous, data, root);
    }

    [Fact]
    public async Task AnotherTenantsRoot_IsVerifiableByAnyoneHoldingIt_TheRootIsTheCapability()
    {
        using var globex = server.Client(RunningServer.GlobexTest);
        var (_, emitted) = await Api.Post(globex, "api/v1/balance/delta", Api.Emit("verify_globex", "5", "seat"));
        var root = emitted.GetProperty("data").GetProperty("receiptId").GetString()!;
        await Api.WaitVerified(globex, RecordId(emitted));

        using var acme = server.Client(RunningServer.AcmeTest);
        using var anonymous = server.Client(apiKey: null);
        using var badKey = server.Client("pk_test_nosuchkey000.nosuchsecret0000000000");
        var (acmeStatus, byAcme) = await Api.Get(acme, $"api/v1/verify/{root}");
        var (anonymousStatus, byAnyone) = await Api.Get(anonymous, $"api/v1/verify/{root}");
        var (badKeyStatus, byBadKey) = await Api.Get(badKey, $"api/v1/verify/{root}");

        // A key of another tenant, no key and even an invalid key all get the same answer: possession of the root
        // is what grants it, never an API key.
        Assert.Equal(200, acmeStatus);
        Assert.Equal(200, anonymousStatus);
        Assert.Equal(200, badKeyStatus);
        Assert.True(byAnyone.GetProperty("data").GetProperty("verified").GetBoolean());
        Assert.Equal(5m, byAnyone.GetProperty("data").GetProperty("records")[0].GetProperty("amount").GetDecimal());
        Assert.Equal(byAnyone.GetRawText(), byAcme.GetRawText());
        Assert.Equal(byAnyone.GetRawText(), byBadKey.GetRawText());
        await CheckIndependently(anonymous, byAnyone.GetProperty("data"), root);
        // Holding the root grants that one result, nothing else of globex: its balance API still needs its key.
        Assert.Equal(404, (await Api.Get(acme, "api/v1/balance/customers/verify_globex")).Status);
    }

    [Theory]
    [InlineData("0x0000000000000000000000000000000000000000000000000000000000000000")]
    [InlineData("0xffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff")]
    [InlineData("0x123")]
    [InlineData("0000000000000000000000000000000000000000000000000000000000000000")]
    [InlineData("0xzz00000000000000000000000000000000000000000000000000000000000000")]
    [InlineData("rec_1")]
    [InlineData("0x00000000000000000000000000000000000000000000000000000000000000000")]
    public async Task UnknownOrMalformedRoot_404ErrorEnvelopeWithVerifiedFalse(string root)
    {
        using var anonymous = server.Client(apiKey: null);
        using var response = await anonymous.GetAsync($"api/v1/verify/{Uri.EscapeDataString(root)}");
        var body = await Api.Read(response);

        Assert.Equal(404, (int)response.StatusCode);
        Assert.StartsWith("application/json", response.Content.Headers.ContentType?.ToString(), StringComparison.Ordinal);
        Assert.False(body.GetProperty("success").GetBoolean());
        Assert.False(body.GetProperty("verified").GetBoolean());
        Assert.Equal("PROOF_ROOT_NOT_FOUND", Api.Code(body));
        Assert.Equal(root, body.GetProperty("proofRoot").GetString());
    }

    [Fact]
    public async Task Root_IsReadCaseInsensitively_AndAnsweredInLowercase()
    {
        using var client = server.Client();
        var (_, emitted) = await Api.Post(client, "api/v1/balance/delta", Api.Emit("verify_case", "3"));
        var root = emitted.GetProperty("data").GetProperty("receiptId").GetString()!;
        await Api.WaitVerified(client, RecordId(emitted));

        var (status, body) = await Api.Get(client, $"api/v1/verify/0x{root[2..].ToUpperInvariant()}");

        Assert.Equal(200, status);
        Assert.Equal(root, body.GetProperty("data").GetProperty("proofRoot").GetString());
    }

    [Fact]
    public async Task Source_ChainAnswersOnlyWhatTheLogProves_BothComparesAndAgrees_OtherValues400()
    {
        using var client = server.Client();
        var (_, emitted) = await Api.Post(client, "api/v1/balance/delta", Api.Emit("verify_source", "-9", "api"));
        var root = emitted.GetProperty("data").GetProperty("receiptId").GetString()!;
        await Api.WaitVerified(client, RecordId(emitted));
        using var anonymous = server.Client(apiKey: null);

        var (chainStatus, chainBody) = await Api.Get(anonymous, $"api/v1/verify/{root}?source=chain");
        var chain = chainBody.GetProperty("data");
        Assert.Equal(200, chainStatus);
        Assert.True(chain.GetProperty("verified").GetBoolean());
        Assert.Equal("chain", chain.GetProperty("source").GetString());
        Assert.False(chain.TryGetProperty("records", out _));
        Assert.False(chain.TryGetProperty("summary", out _));
        Assert.False(chain.TryGetProperty("itemHashes", out _));
        Assert.Contains("the log proves it", chain.GetProperty("message").GetString(), StringComparison.Ordinal);
        var log = chain.GetProperty("log");
        var entry = Convert.FromBase64String(log.GetProperty("logLeaf").GetString()!);
        Assert.Equal(ReceiptLogEntry.Create(Hex(root), Millis(chain.GetProperty("recordedAt").GetString()!)), entry);

        var (bothStatus, bothBody) = await Api.Get(anonymous, $"api/v1/verify/{root}?source=both");
        var both = bothBody.GetProperty("data");
        Assert.Equal(200, bothStatus);
        Assert.True(both.GetProperty("verified").GetBoolean());
        Assert.Equal("both", both.GetProperty("source").GetString());
        var sources = both.GetProperty("sources");
        Assert.True(sources.GetProperty("db").GetBoolean());
        Assert.True(sources.GetProperty("chain").GetBoolean());
        Assert.True(sources.GetProperty("agree").GetBoolean());
        Assert.Equal(-9m, both.GetProperty("records")[0].GetProperty("amount").GetDecimal());

        var (dbStatus, dbBody) = await Api.Get(anonymous, $"api/v1/verify/{root}?source=db");
        Assert.Equal(200, dbStatus);
        Assert.Equal("db", dbBody.GetProperty("data").GetProperty("source").GetString());

        foreach (var bad in new[] { "ledger", "DB", "", "db&source=chain" })
        {
            var (badStatus, badBody) = await Api.Get(anonymous, $"api/v1/verify/{root}?source={bad}");
            Assert.Equal(400, badStatus);
            Assert.Equal("INVALID_QUERY", Api.Code(badBody));
            Assert.False(badBody.GetProperty("verified").GetBoolean());
        }
    }

    [Fact]
    public async Task SummaryOnlyTenant_HidesRecordsAndCustomerReference_SummaryAndProofStillCheck()
    {
        var directory = server.Services.GetRequiredService<TenantDirectory>();
        var key = directory.CreateKey("verify-private", "test");
        Assert.True(RevealSetting.Set(server.Services.GetRequiredService<Database>(), "verify-private", Reveal.Summary));
        using var client = server.Client(key.FullKey);
        var (_, emitted) = await Api.Post(client, "api/v1/balance/delta", Api.Emit("verify_secret", "12.5", "secret_reason", "secret_ref"));
        var root = emitted.GetProperty("data").GetProperty("receiptId").GetString()!;
        await Api.WaitVerified(client, RecordId(emitted));
        using var anonymous = server.Client(apiKey: null);

        using var response = await anonymous.GetAsync($"api/v1/verify/{root}");
        var text = await response.Content.ReadAsStringAsync();
        var data = JsonDocument.Parse(text).RootElement.GetProperty("data");

        Assert.Equal(200, (int)response.StatusCode);
        Assert.True(data.GetProperty("verified").GetBoolean());
        Assert.Equal("summary", data.GetProperty("reveal").GetString());
        Assert.False(data.TryGetProperty("records", out _));
        Assert.False(data.TryGetProperty("customerReference", out _));
        Assert.DoesNotContain("secret_reason", text, StringComparison.Ordinal);
        Assert.DoesNotContain("secret_ref", text, StringComparison.Ordinal);
        Assert.Equal(12.5m, data.GetProperty("summary").GetProperty("netChange").GetDecimal());
        Assert.Equal(1, data.GetProperty("summary").GetProperty("recordCount").GetInt32());
        await CheckIndependently(anonymous, data, root);

        Assert.True(RevealSetting.Set(server.Services.GetRequiredService<Database>(), "verify-private", Reveal.Records));
        var (_, revealed) = await Api.Get(anonymous, $"api/v1/verify/{root}");
        Assert.Equal("secret_reason", revealed.GetProperty("data").GetProperty("records")[0].GetProperty("reason").GetString());
        Assert.False(RevealSetting.Set(server.Services.GetRequiredService<Database>(), "no-such-tenant", Reveal.Summary));
    }

    [Fact]
    public async Task NotYetCovered_200VerifiedFalseWithStatus_NoLogEvidence_ChainSaysNotVerified()
    {
        // The first checkpoint after start is signed at once; the next one only after a minute.
        var slow = new RunningServer { CheckpointInterval = TimeSpan.FromMinutes(1) };
        await slow.InitializeAsync();
        try
        {
            using var client = slow.Client();
            var (_, first) = await Api.Post(client, "api/v1/balance/delta", Api.Emit("verify_slow", "1"));
            await Api.WaitVerified(client, RecordId(first));
            var (_, second) = await Api.Post(client, "api/v1/balance/delta", Api.Emit("verify_slow", "2"));
            var root = second.GetProperty("data").GetProperty("receiptId").GetString()!;
            using var anonymous = slow.Client(apiKey: null);

            var (status, body) = await Api.Get(anonymous, $"api/v1/verify/{root}");
            var (chainStatus, chainBody) = await Api.Get(anonymous, $"api/v1/verify/{root}?source=chain");
            var (bothStatus, bothBody) = await Api.Get(anonymous, $"api/v1/verify/{root}?source=both");

            Assert.Equal(200, status);
            var data = body.GetProperty("data");
            Assert.False(data.GetProperty("verified").GetBoolean());
            Assert.Contains(data.GetProperty("status").GetString(), new[] { "QUEUED", "PROCESSING" });
            Assert.False(data.TryGetProperty("log", out _));
            Assert.Equal("pending", data.GetProperty("records")[0].GetProperty("status").GetString());
            Assert.Equal(200, chainStatus);
            Assert.False(chainBody.GetProperty("data").GetProperty("verified").GetBoolean());
            Assert.Equal(200, bothStatus);
            Assert.False(bothBody.GetProperty("data").GetProperty("verified").GetBoolean());
            Assert.True(bothBody.GetProperty("data").GetProperty("sources").GetProperty("agree").GetBoolean());
        }
        finally
        {
            await slow.DisposeAsync();
        }
    }

    [Fact]
    public async Task PublicUrlConfigured_LinksUseIt()
    {
        var proxied = new RunningServer { PublicUrl = "https://ledger.example.com/" };
        await proxied.InitializeAsync();
        try
        {
            using var client = proxied.Client();
            var (_, emitted) = await Api.Post(client, "api/v1/balance/delta", Api.Emit("verify_url", "1"));
            var root = emitted.GetProperty("data").GetProperty("receiptId").GetString()!;

            var (status, body) = await Api.Get(client, $"api/v1/verify/{root}");

            Assert.Equal(200, status);
            var links = body.GetProperty("data").GetProperty("verification");
            Assert.Equal($"https://ledger.example.com/api/v1/verify/{root}", links.GetProperty("verificationApiUrl").GetString());
            Assert.Equal($"https://ledger.example.com/verify/{root}", links.GetProperty("verificationExplorerUrl").GetString());
        }
        finally
        {
            await proxied.DisposeAsync();
        }
    }

    [Fact]
    public async Task Cli_TenantsSet_StoresTheRevealSetting_UnknownTenantFails_BadValueIsUsageError()
    {
        var data = Path.Combine(Path.GetTempPath(), "tally-cli-" + Guid.NewGuid().ToString("N"));
        try
        {
            Assert.Equal(0, (await CliTests.Tally("keys", "create", "--tenant", "shy", "--env", "test", "--data", data)).Exit);

            var (set, output, _) = await CliTests.Tally("tenants", "set", "--tenant", "shy", "--verify-reveal", "summary", "--data", data);
            var (unknown, _, unknownError) = await CliTests.Tally("tenants", "set", "--tenant", "nobody", "--verify-reveal", "summary", "--data", data);
            var (bad, _, _) = await CliTests.Tally("tenants", "set", "--tenant", "shy", "--verify-reveal", "everything", "--data", data);

            Assert.Equal(0, set);
            Assert.Contains("verify-reveal summary", output, StringComparison.Ordinal);
            Assert.Equal(1, unknown);
            Assert.Contains("no tenant 'nobody'", unknownError, StringComparison.Ordinal);
            Assert.Equal(2, bad);
            var database = new Database(data);
            using var connection = database.Open();
            using var find = connection.CreateCommand();
            find.CommandText = "SELECT id FROM tenants WHERE name = 'shy'";
            var tenantId = (long)find.ExecuteScalar()!;
            Assert.Equal(Reveal.Summary, RevealSetting.Read(connection, null, tenantId));
        }
        finally
        {
            Microsoft.Data.Sqlite.SqliteConnection.ClearAllPools();
            Directory.Delete(data, recursive: true);
        }
    }

    [Fact]
    public async Task CheckpointRoot_AnsweredWithSignedStatement_SummaryFromIt_ItemsAndLogEvidenceCheckIndependently()
    {
        using var client = server.Client();
        var checkpoint = await CreateCheckpoint(client, "verify_chk", ["100"], ["-42.5", "7.25"], ["0.00000001"]);
        var root = checkpoint.GetProperty("proofRoot").GetString()!;
        using var anonymous = server.Client(apiKey: null);

        var data = await WaitVerifiedAnswer(anonymous, root);

        Assert.Equal("checkpoint", data.GetProperty("kind").GetString());
        Assert.Equal(root, data.GetProperty("proofRoot").GetString());
        var token = checkpoint.GetProperty("proofToken").GetString()!;
        var statement = ProofToken.Verify(token, await LogKey(anonymous), out var failure);
        Assert.Null(failure);
        Assert.Equal(token, ProofToken.Encode(data.GetProperty("statement").GetString()!));
        Assert.Equal(statement!.CustomerReference, data.GetProperty("customerReference").GetString());
        var summary = data.GetProperty("summary");
        Assert.Equal(4, summary.GetProperty("recordCount").GetInt32());
        Assert.Equal(0m, summary.GetProperty("startingBalance").GetDecimal());
        Assert.Equal(64.75000001m, summary.GetProperty("endingBalance").GetDecimal());
        Assert.Equal(64.75000001m, summary.GetProperty("netChange").GetDecimal());
        var records = data.GetProperty("records").EnumerateArray().ToList();
        Assert.Equal([0L, 1L, 2L, 3L], records.Select(r => r.GetProperty("sequenceNumber").GetInt64()));
        Assert.Equal([100m, -42.5m, 7.25m, 0.00000001m], records.Select(r => r.GetProperty("amount").GetDecimal()));
        Assert.Equal(Timestamps.Format(statement.AnchoredAtUnixMs), data.GetProperty("recordedAt").GetString());
        Assert.Equal(statement.LogIndex, data.GetProperty("log").GetProperty("leafIndex").GetInt64());

        await CheckIndependently(anonymous, data, root);
    }

    [Fact]
    public async Task ProofToken_VerifiesOnlineInOneCall_SameAnswerAsItsRoot_TamperedToken404()
    {
        using var client = server.Client();
        var checkpoint = await CreateCheckpoint(client, "verify_token", ["12", "-2"]);
        var root = checkpoint.GetProperty("proofRoot").GetString()!;
        var token = checkpoint.GetProperty("proofToken").GetString()!;
        using var anonymous = server.Client(apiKey: null);
        var byRoot = await WaitVerifiedAnswer(anonymous, root);

        var (status, body) = await Api.Get(anonymous, $"api/v1/verify/{token}");
        var (chainStatus, chainBody) = await Api.Get(anonymous, $"api/v1/verify/{token}?source=chain");
        var flipped = token[..^3] + (token[^3] == 'A' ? 'B' : 'A') + token[^2..];
        var (tamperedStatus, tampered) = await Api.Get(anonymous, $"api/v1/verify/{flipped}");

        Assert.Equal(200, status);
        var byToken = body.GetProperty("data");
        Assert.True(byToken.GetProperty("verified").GetBoolean());
        Assert.Equal(byRoot.GetRawText(), byToken.GetRawText());
        await CheckIndependently(anonymous, byToken, root);
        Assert.Equal(200, chainStatus);
        var chain = chainBody.GetProperty("data");
        Assert.True(chain.GetProperty("verified").GetBoolean());
        Assert.Contains("the log proves it", chain.GetProperty("message").GetString(), StringComparison.Ordinal);
        Assert.Equal(byRoot.GetProperty("statement").GetString(), chain.GetProperty("statement").GetString());
        Assert.False(chain.TryGetProperty("records", out _));
        Assert.Equal(404, tamperedStatus);
        Assert.Equal("PROOF_ROOT_NOT_FOUND", Api.Code(tampered));
        Assert.False(tampered.GetProperty("verified").GetBoolean());
        Assert.Contains("signature", tampered.GetProperty("message").GetString(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task CheckpointRoot_SummaryOnlyTenant_NoRecords_StatementAndItemHashesStillCheck()
    {
        var key = server.Services.GetRequiredService<TenantDirectory>().CreateKey("verify-private-chk", "test");
        Assert.True(RevealSetting.Set(server.Services.GetRequiredService<Database>(), "verify-private-chk", Reveal.Summary));
        using var client = server.Client(key.FullKey);
        var checkpoint = await CreateCheckpoint(client, "verify_secret_chk", ["3", "4"]);
        var root = checkpoint.GetProperty("proofRoot").GetString()!;
        using var anonymous = server.Client(apiKey: null);

        var data = await WaitVerifiedAnswer(anonymous, root);

        Assert.Equal("summary", data.GetProperty("reveal").GetString());
        Assert.False(data.TryGetProperty("records", out _));
        Assert.Equal(2, data.GetProperty("itemHashes").GetArrayLength());
        Assert.Equal(7m, data.GetProperty("summary").GetProperty("netChange").GetDecimal());
        await CheckIndependently(anonymous, data, root);
    }

    /// <summary>Emits each batch as one record of <paramref name="customer"/>, waits until verified, and asks for the
    /// customer's period checkpoint over everything verified; returns its <c>data</c>.</summary>
    internal static async Task<JsonElement> CreateCheckpoint(HttpClient client, string customer, params string[][] batches)
    {
        int n = 0;
        foreach (var amounts in batches)
        {
            var items = string.Join(",", amounts.Select(a => Api.Emit(customer, a, "usage", $"{customer}_{n++}")));
            var (status, body) = await Api.Post(client, "api/v1/balance/delta/batch", $"{{\"deltas\":[{items}]}}");
            Assert.Equal(201, status);
            await Api.WaitVerified(client, body.GetProperty("data").GetProperty("results")[0].GetProperty("recordId").GetString()!);
        }
        var (created, checkpoint) = await Api.Post(client, "api/v1/balance/checkpoint", $"{{\"customerId\":\"{customer}\"}}");
        Assert.Equal(201, created);
        return checkpoint.GetProperty("data");
    }

    /// <summary>The verify answer for a root once a signed checkpoint of the log covers its entry.</summary>
    internal static async Task<JsonElement> WaitVerifiedAnswer(HttpClient anonymous, string root)
    {
        var deadline = DateTime.UtcNow.AddSeconds(10);
        while (true)
        {
            var (status, body) = await Api.Get(anonymous, $"api/v1/verify/{root}");
            Assert.Equal(200, status);
            if (body.GetProperty("data").GetProperty("verified").GetBoolean())
            {
                return body.GetProperty("data");
            }
            Assert.True(DateTime.UtcNow < deadline, $"{root} not covered by a signed checkpoint in 10 s");
            await Task.Delay(10);
        }
    }

    private static async Task<NoteVerifier> LogKey(HttpClient anonymous) =>
        NoteVerifier.Parse((await anonymous.GetStringAsync("log/key")).TrimEnd('\n'));

    /// <summary>
    /// Re-checks an answer without trusting the server: item bytes → item hashes → receipt root (RFC 6962) → receipt
    /// entry → leaf hash → inclusion proof → checkpoint root, and the checkpoint's signature under /log/key.
    /// </summary>
    internal static async Task CheckIndependently(HttpClient anonymous, JsonElement data, string root)
    {
        var itemHashes = data.GetProperty("itemHashes").EnumerateArray().Select(h => Hex(h.GetString()!)).ToList();
        if (data.TryGetProperty("records", out var records))
        {
            var list = records.EnumerateArray().ToList();
            Assert.Equal(itemHashes.Count, list.Count);
            for (int i = 0; i < list.Count; i++)
            {
                var bytes = Convert.FromBase64String(list[i].GetProperty("canonicalItem").GetString()!);
                Assert.Equal(itemHashes[i], Rfc6962.HashLeaf(bytes));
                Assert.Equal(list[i].GetProperty("itemHash").GetString(), "0x" + Convert.ToHexStringLower(itemHashes[i]));
                using var item = JsonDocument.Parse(bytes);
                Assert.Equal(list[i].GetProperty("amount").GetDecimal(),
                    decimal.Parse(item.RootElement.GetProperty("amount").GetString()!, System.Globalization.CultureInfo.InvariantCulture));
                Assert.Equal(list[i].GetProperty("reason").GetString(), item.RootElement.GetProperty("reason").GetString());
                Assert.Equal(list[i].GetProperty("sequenceNumber").GetInt64(), item.RootElement.GetProperty("sequence").GetInt64());
                Assert.Equal(list[i].GetProperty("time").GetString(), item.RootElement.GetProperty("receivedAt").GetString());
            }
        }
        Assert.Equal(Hex(root), MerkleTree.RootFromLeafHashes(itemHashes));

        var log = data.GetProperty("log");
        var entry = Convert.FromBase64String(log.GetProperty("logLeaf").GetString()!);
        var key = await LogKey(anonymous);
        if (data.GetProperty("kind").GetString() == "checkpoint")
        {
            // The entry commits to the statement the log signed, which names this root, the balances and the index.
            var signed = SignedNote.Verify(data.GetProperty("statement").GetString()!, key, out var text);
            Assert.True(signed.IsValid, signed.Error);
            var statement = PeriodCheckpoint.TryParse(text);
            Assert.NotNull(statement);
            Assert.Equal(Hex(root), statement.ProofRoot);
            Assert.Equal(statement.LogIndex, log.GetProperty("leafIndex").GetInt64());
            Assert.Equal(statement.DeltaCount, data.GetProperty("summary").GetProperty("recordCount").GetInt64());
            Assert.Equal(statement.StartingBalance.ToString(),
                data.GetProperty("summary").GetProperty("startingBalance").GetRawText());
            Assert.Equal(statement.EndingBalance.ToString(),
                data.GetProperty("summary").GetProperty("endingBalance").GetRawText());
            Assert.Equal(statement.LogEntry(), entry);
            Assert.Equal(statement.AnchoredAtUnixMs, Millis(data.GetProperty("recordedAt").GetString()!));
        }
        else
        {
            Assert.Equal(ReceiptLogEntry.Create(Hex(root), Millis(data.GetProperty("recordedAt").GetString()!)), entry);
        }
        var leafHash = Rfc6962.HashLeaf(entry);
        Assert.Equal(data.GetProperty("verification").GetProperty("verificationReference").GetString(),
            "0x" + Convert.ToHexStringLower(leafHash));
        var signature = Checkpoint.TryVerify(log.GetProperty("checkpoint").GetString()!, key, key.Name, out var checkpoint);
        Assert.True(signature.IsValid, signature.Error);
        Assert.Equal(checkpoint!.Size, log.GetProperty("treeSize").GetInt64());
        var proof = log.GetProperty("inclusionProof").EnumerateArray().Select(h => Hex(h.GetString()!)).ToList();
        var included = MerkleProof.VerifyInclusion(log.GetProperty("leafIndex").GetInt64(), checkpoint.Size, leafHash, proof,
            checkpoint.RootHash);
        Assert.True(included.IsValid, included.Error);
        Assert.True(TlogProof.TryParse(log.GetProperty("tlogProof").GetString()!, out var tlog, out _));
        Assert.Equal(log.GetProperty("leafIndex").GetInt64(), tlog!.Index);
    }

    private static string RecordId(JsonElement emitted) => emitted.GetProperty("data").GetProperty("recordId").GetString()!;

    private static byte[] Hex(string text) => Convert.FromHexString(text.AsSpan(2));

    private static long Millis(string timestamp) =>
        DateTimeOffset.Parse(timestamp, System.Globalization.CultureInfo.InvariantCulture).ToUnixTimeMilliseconds();
}
