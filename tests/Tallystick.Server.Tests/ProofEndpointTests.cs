using System.Text;
using System.Text.Json;
using Microsoft.Extensions.DependencyInjection;
using Tallystick.Canonical;
using Tallystick.Merkle;
using Tallystick.Notes;
using Tallystick.Proofs;
using Tallystick.Server.Storage;
using Tallystick.Server.TransparencyLog;
using Tallystick.Wire;

namespace Tallystick.Server.Tests;

// Goal: GET /delta/{recordId}/proof hands out, for every delta of every record, a bundle that verifies offline under
// the log's key and says exactly what the ledger recorded; only to the record's own plane; and only once a checkpoint
// covers it. Method: emit single and batch records (1, 3 and 5 items) over real HTTP, wait for VERIFIED, fetch the
// bundles and verify them with the Core verifier and the key from the server's LogIdentity (not from the bundle);
// cross-check the tile-built inclusion proofs against the whole log recomputed from its stored entries.
public sealed class ProofEndpointTests(RunningServer server) : IClassFixture<RunningServer>
{
    private NoteVerifier LogKey => server.Services.GetRequiredService<LogIdentity>().Verifier;

    [Fact]
    public async Task Proof_RecordsOf1And3And5Deltas_EveryDeltaVerifiesAndShowsWhatWasRecorded()
    {
        using var client = server.Client();
        var (status, single) = await Api.Post(client, "api/v1/balance/delta",
            "{\"customerId\":\"proof_single\",\"delta\":-42.5,\"reason\":\"gpu \\u20ac\",\"referenceId\":\"job_1\"," +
            "\"metadata\":{\"plan\":\"growth\",\"n\":4.5}}");
        Assert.Equal(201, status);
        string[] customers = ["proof_one", "proof_three", "proof_five", "proof_three", "proof_five", "proof_three",
            "proof_five", "proof_five", "proof_five"];
        var items = string.Join(",", customers.Select((c, i) => Api.Emit(c, $"{i + 1}.25", $"r{i}")));
        var (batchStatus, batch) = await Api.Post(client, "api/v1/balance/delta/batch", $"{{\"deltas\":[{items}]}}");
        Assert.Equal(201, batchStatus);
        var recordIds = batch.GetProperty("data").GetProperty("results").EnumerateArray()
            .Select(r => r.GetProperty("recordId").GetString()!)
            .Prepend(single.GetProperty("data").GetProperty("recordId").GetString()!).Distinct().ToList();

        var counts = new List<int>();
        foreach (var recordId in recordIds)
        {
            var record = await Api.WaitVerified(client, recordId);
            var deltas = record.GetProperty("deltas");
            counts.Add(deltas.GetArrayLength());
            for (int k = 0; k < deltas.GetArrayLength(); k++)
            {
                var bundle = await FetchBundle(client, $"api/v1/balance/delta/{recordId}/proof?index={k}");
                var result = ProofBundleVerifier.Verify(bundle, LogKey);

                Assert.True(result.IsValid, $"{recordId}[{k}]: {result}");
                var row = deltas[k];
                Assert.Equal(row.GetProperty("delta").GetRawText(), bundle.Delta.ToString());
                Assert.Equal(row.GetProperty("reason").GetString(), bundle.Reason);
                Assert.Equal(row.GetProperty("sequenceNumber").GetInt64(), bundle.SequenceNumber);
                Assert.Equal(row.GetProperty("itemHash").GetString(), bundle.ItemHash);
                Assert.Equal(row.GetProperty("receivedAt").GetString(), bundle.ReceivedAt);
                Assert.Equal(record.GetProperty("receiptId").GetString(), bundle.ReceiptId);
                Assert.Equal(record.GetProperty("customerReference").GetString(), bundle.CustomerReference);
                Assert.Equal(record.GetProperty("customerId").GetString(), bundle.CustomerId);
                Assert.Equal(record.GetProperty("log").GetProperty("leafIndex").GetInt64(), bundle.LogIndex);
                Assert.Equal((k, deltas.GetArrayLength()), (bundle.ItemIndex, bundle.ItemCount));
                Assert.Equal(recordId, bundle.RecordId);
                Assert.Equal(LogKey.VerifierKeyText, bundle.LogKey);
            }
        }
        Assert.Equal([1, 1, 3, 5], counts);
    }

    [Fact]
    public async Task Proof_SingleWithMetadata_CarriesReferenceAndMetadata()
    {
        using var client = server.Client();
        var (_, emitted) = await Api.Post(client, "api/v1/balance/delta",
            "{\"customerId\":\"proof_meta\",\"delta\":7,\"reason\":\"r\",\"referenceId\":\"ref_7\"," +
            "\"metadata\":{\"z\":[1,2],\"a\":{\"b\":\"\\u00e9\"}}}");
        var recordId = emitted.GetProperty("data").GetProperty("recordId").GetString()!;
        await Api.WaitVerified(client, recordId);

        var bundle = await FetchBundle(client, $"api/v1/balance/delta/{recordId}/proof");

        Assert.True(ProofBundleVerifier.Verify(bundle, LogKey).IsValid);
        Assert.Equal("ref_7", bundle.ReferenceId);
        Assert.Equal("{\"a\":{\"b\":\"é\"},\"z\":[1,2]}",
            Encoding.UTF8.GetString(JsonCanonicalizer.Canonicalize(bundle.Metadata!.Value)));
        Assert.Empty(bundle.ItemPath);
        Assert.Equal(bundle.ItemHash, bundle.ReceiptId);
    }

    [Fact]
    public async Task Proof_BySequenceNumber_SelectsTheSameDeltaAsByIndex()
    {
        using var client = server.Client();
        var items = string.Join(",", Enumerable.Range(0, 3).Select(i => Api.Emit("proof_seq", $"-{i + 1}")));
        var (_, batch) = await Api.Post(client, "api/v1/balance/delta/batch", $"{{\"deltas\":[{items}]}}");
        var recordId = batch.GetProperty("data").GetProperty("results")[0].GetProperty("recordId").GetString()!;
        var record = await Api.WaitVerified(client, recordId);
        long first = record.GetProperty("sequenceNumber").GetInt64();

        var byIndex = await FetchBundle(client, $"api/v1/balance/delta/{recordId}/proof?index=2");
        var bySequence = await FetchBundle(client, $"api/v1/balance/delta/{recordId}/proof?sequenceNumber={first + 2}");
        var byDefault = await FetchBundle(client, $"api/v1/balance/delta/{recordId}/proof");

        Assert.Equal(byIndex.CanonicalItem, bySequence.CanonicalItem);
        Assert.Equal(first + 2, bySequence.SequenceNumber);
        Assert.Equal(0, byDefault.ItemIndex);
        Assert.Equal("-1", byDefault.Delta.ToString());
        foreach (var query in new[] { "index=3", "index=-1", "index=x", $"sequenceNumber={first + 3}",
            $"sequenceNumber={first - 1}", "index=0&sequenceNumber=0" })
        {
            var (status, body) = await Api.Get(client, $"api/v1/balance/delta/{recordId}/proof?{query}");
            Assert.Equal(400, status);
            Assert.Equal("INVALID_QUERY", Api.Code(body));
        }
    }

    [Fact]
    public async Task Proof_LogLongerThanOneTile_InclusionProofsMatchTheWholeTree()
    {
        using var client = server.Client();
        var recordIds = new List<string>();
        for (int request = 0; request < 3; request++)
        {
            var items = string.Join(",", Enumerable.Range(0, 100).Select(i => Api.Emit($"tile_{request}_{i}", "1")));
            var (_, batch) = await Api.Post(client, "api/v1/balance/delta/batch", $"{{\"deltas\":[{items}]}}");
            recordIds.AddRange(batch.GetProperty("data").GetProperty("results").EnumerateArray()
                .Select(r => r.GetProperty("recordId").GetString()!));
        }
        await Api.WaitVerified(client, recordIds[^1]);

        foreach (var recordId in new[] { recordIds[0], recordIds[127], recordIds[200], recordIds[255], recordIds[^1] })
        {
            var bundle = await FetchBundle(client, $"api/v1/balance/delta/{recordId}/proof");
            Assert.True(ProofBundleVerifier.Verify(bundle, LogKey).IsValid, recordId);
            var proof = TlogProof.Parse(bundle.TlogProof);
            var size = Checkpoint.ParseNoteText(proof.Checkpoint[..(proof.Checkpoint.IndexOf("\n\n", StringComparison.Ordinal) + 1)]).Size;
            Assert.True(size > 256, $"the log should span more than one tile, has {size}");
            var expected = MerkleTree.InclusionPath(StoredLeafHashes(size), bundle.LogIndex);
            Assert.Equal(expected.Select(Convert.ToHexStringLower), proof.Hashes.Select(Convert.ToHexStringLower));
        }
    }

    [Fact]
    public async Task Proof_OtherTenantOtherEnvironmentOrUnknown_404RecordNotFound()
    {
        using var acme = server.Client(RunningServer.AcmeTest);
        var (_, emitted) = await Api.Post(acme, "api/v1/balance/delta", Api.Emit("proof_private", "3"));
        var recordId = emitted.GetProperty("data").GetProperty("recordId").GetString()!;
        await Api.WaitVerified(acme, recordId);

        foreach (var key in new[] { RunningServer.GlobexTest, RunningServer.AcmeLive })
        {
            using var other = server.Client(key);
            var (status, body) = await Api.Get(other, $"api/v1/balance/delta/{recordId}/proof");
            Assert.Equal(404, status);
            Assert.Equal("RECORD_NOT_FOUND", Api.Code(body));
        }
        foreach (var unknown in new[] { "rec_999999999", "rec_0", "nonsense" })
        {
            var (status, body) = await Api.Get(acme, $"api/v1/balance/delta/{unknown}/proof");
            Assert.Equal(404, status);
            Assert.Equal("RECORD_NOT_FOUND", Api.Code(body));
        }
        using var anonymous = server.Client(apiKey: null);
        Assert.Equal(401, (await Api.Get(anonymous, $"api/v1/balance/delta/{recordId}/proof")).Status);
    }

    [Fact]
    public async Task Proof_BeforeACheckpointCoversTheRecord_409ProofNotReadyWithStatus()
    {
        // The first checkpoint after start is signed at once; the next one only after a minute, far beyond this test.
        var slow = new RunningServer { CheckpointInterval = TimeSpan.FromMinutes(1) };
        await slow.InitializeAsync();
        try
        {
            using var client = slow.Client();
            var (_, first) = await Api.Post(client, "api/v1/balance/delta", Api.Emit("proof_slow", "1"));
            var covered = first.GetProperty("data").GetProperty("recordId").GetString()!;
            await Api.WaitVerified(client, covered);
            var (_, second) = await Api.Post(client, "api/v1/balance/delta", Api.Emit("proof_slow", "2"));
            var pending = second.GetProperty("data").GetProperty("recordId").GetString()!;

            using var response = await client.GetAsync($"api/v1/balance/delta/{pending}/proof");
            var body = await Api.Read(response);

            Assert.Equal(409, (int)response.StatusCode);
            Assert.Equal("PROOF_NOT_READY", Api.Code(body));
            Assert.Contains($"record {pending} is QUEUED", body.GetProperty("message").GetString(), StringComparison.Ordinal);
            Assert.Equal("1", response.Headers.RetryAfter?.ToString());
            var bundle = await FetchBundle(client, $"api/v1/balance/delta/{covered}/proof");
            var key = slow.Services.GetRequiredService<LogIdentity>().Verifier;
            Assert.True(ProofBundleVerifier.Verify(bundle, key).IsValid);
        }
        finally
        {
            await slow.DisposeAsync();
        }
    }

    private static async Task<ProofBundle> FetchBundle(HttpClient client, string path)
    {
        var (status, body) = await Api.Get(client, path);
        Assert.True(status == 200, $"{path}: {status} {body}");
        Assert.True(body.GetProperty("success").GetBoolean());
        return body.GetProperty("data").Deserialize(WireJson.Default.ProofBundle)!;
    }

    // The oracle for the tile reader: every stored entry, hashed afresh, in log order.
    private byte[][] StoredLeafHashes(long size)
    {
        using var connection = server.Services.GetRequiredService<Database>().Open();
        using var command = connection.CreateCommand();
        command.CommandText = "SELECT entry FROM log_entries WHERE idx < $size ORDER BY idx";
        command.Parameters.AddWithValue("$size", size);
        var hashes = new List<byte[]>();
        using var reader = command.ExecuteReader();
        while (reader.Read())
        {
            hashes.Add(Rfc6962.HashLeaf((byte[])reader[0]));
        }
        Assert.Equal(size, hashes.Count);
        return [.. hashes];
    }
}
