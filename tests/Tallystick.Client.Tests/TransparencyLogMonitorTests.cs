using System.Net;
using System.Text;
using System.Text.Json;
using Tallystick.Merkle;
using Tallystick.Notes;
using Tallystick.Wire;

namespace Tallystick.Client.Tests;

// Goal: a client that remembers the last verified checkpoint accepts only an append-only extension of it, and names
// what went wrong otherwise: a tampered proof, a smaller tree, a checkpoint not signed by the log key, and forks
// (another root at the same size; a larger tree grown from another root). Method: growth and a tampered proof
// against the real in-process server; the failure cases against FakeLog, a hand-written /log/ server over
// in-memory trees signed with a test key, so each forged state is built exactly and the oracle is Core's Merkle code.
public sealed class TransparencyLogMonitorTests(InProcessServer server) : IClassFixture<InProcessServer>
{
    [Fact]
    public async Task Update_LogGrows_ConsistencyVerifiedAndPersistedNoteResumes()
    {
        using var client = server.Client();
        var monitor = new TransparencyLogMonitor(client, await client.GetLogKeyAsync());
        await client.EmitAndWaitAsync("monitor_growth", 1m, "usage");

        var first = await monitor.UpdateAsync();
        await client.EmitAndWaitAsync("monitor_growth", 2m, "usage");
        var second = await monitor.UpdateAsync();
        var resumed = new TransparencyLogMonitor(client, await client.GetLogKeyAsync(), monitor.TrustedCheckpointNote);
        var again = await resumed.UpdateAsync();

        Assert.Null(first.Previous);
        Assert.True(first.Grew);
        Assert.Equal(first.Latest, second.Previous);
        Assert.True(second.Grew);
        Assert.True(second.Latest.Size > first.Latest.Size);
        Assert.Equal(second.Latest, monitor.Trusted);
        Assert.Equal(second.LatestNote, monitor.TrustedCheckpointNote);
        Assert.Equal("test.tallystick/client-log", monitor.Origin);
        Assert.Equal(second.Latest, again.Previous);
        Assert.Equal(again.Latest, resumed.Trusted);
    }

    [Fact]
    public async Task Update_TamperedProofFromRealServer_ConsistencyProofInvalidAndTrustKept()
    {
        using var tamper = new ProofTamperer();
        using var client = server.Client(handler: tamper);
        var monitor = new TransparencyLogMonitor(client, await client.GetLogKeyAsync());
        await client.EmitAndWaitAsync("monitor_tamper", 1m, "usage");
        var first = await monitor.UpdateAsync();
        // Three more records, so the proof from the first size has at least one hash to flip.
        await client.EmitAsync("monitor_tamper_a", 1m, "usage");
        await client.EmitAsync("monitor_tamper_b", 1m, "usage");
        await client.EmitAndWaitAsync("monitor_tamper_c", 1m, "usage");

        var error = await Assert.ThrowsAsync<TransparencyLogException>(() => monitor.UpdateAsync());

        Assert.True(tamper.Tampered);
        Assert.Equal(TransparencyLogFailure.ConsistencyProofInvalid, error.Failure);
        Assert.Contains("does not verify", error.Message, StringComparison.Ordinal);
        Assert.Equal(first.Latest, error.Trusted);
        Assert.True(error.Latest!.Size > first.Latest.Size);
        Assert.Equal(first.Latest, monitor.Trusted);
    }

    [Fact]
    public async Task Update_SmallerTree_TreeShrank()
    {
        using var log = new FakeLog();
        log.Publish(Leaves("a", 5));
        var monitor = log.Monitor();
        await monitor.UpdateAsync();
        log.Publish(Leaves("a", 3));

        var error = await Assert.ThrowsAsync<TransparencyLogException>(() => monitor.UpdateAsync());

        Assert.Equal(TransparencyLogFailure.TreeShrank, error.Failure);
        Assert.Equal("the log shrank from 5 to 3 entries: an append-only log never does", error.Message);
        Assert.Equal(5, monitor.Trusted!.Size);
        Assert.Equal(0, log.ProofRequests);
    }

    [Fact]
    public async Task Update_CheckpointSignedByAnotherKey_CheckpointSignatureInvalid()
    {
        using var log = new FakeLog();
        log.Publish(Leaves("a", 4));
        var monitor = log.Monitor();
        await monitor.UpdateAsync();
        log.Publish(Leaves("a", 6), NoteSigner.Generate(FakeLog.Origin));

        var error = await Assert.ThrowsAsync<TransparencyLogException>(() => monitor.UpdateAsync());

        Assert.Equal(TransparencyLogFailure.CheckpointSignatureInvalid, error.Failure);
        Assert.Contains("no signature by " + FakeLog.Origin, error.Message, StringComparison.Ordinal);
        Assert.Null(error.Latest);
        Assert.Equal(log.Note, error.LatestNote);
        Assert.Equal(4, monitor.Trusted!.Size);
    }

    [Fact]
    public async Task Update_SameSizeDifferentRootValidlySigned_Forked()
    {
        using var log = new FakeLog();
        log.Publish(Leaves("a", 4));
        var monitor = log.Monitor();
        var trusted = (await monitor.UpdateAsync()).Latest;
        log.Publish(Leaves("b", 4));

        var error = await Assert.ThrowsAsync<TransparencyLogException>(() => monitor.UpdateAsync());

        Assert.Equal(TransparencyLogFailure.Forked, error.Failure);
        Assert.StartsWith("two signed checkpoints of size 4 with different roots", error.Message, StringComparison.Ordinal);
        Assert.Equal(trusted, error.Trusted);
        Assert.Equal(4, error.Latest!.Size);
        Assert.NotEqual(trusted.RootHash, error.Latest.RootHash);
        Assert.Equal(trusted, monitor.Trusted);
    }

    [Fact]
    public async Task Update_LargerTreeGrownFromAnotherRoot_ForkedWithTheOtherRoot()
    {
        using var log = new FakeLog();
        var honest = Leaves("a", 5);
        log.Publish(honest);
        var monitor = log.Monitor();
        await monitor.UpdateAsync();
        var rewritten = honest.ToList();
        rewritten[2] = Rfc6962.HashLeaf("rewritten"u8);
        log.Publish([.. rewritten, .. Leaves("c", 4)]);

        var error = await Assert.ThrowsAsync<TransparencyLogException>(() => monitor.UpdateAsync());

        Assert.Equal(TransparencyLogFailure.Forked, error.Failure);
        var otherRoot = "0x" + Convert.ToHexStringLower(MerkleTree.RootFromLeafHashes(rewritten));
        Assert.Contains($"extends a tree of size 5 with root {otherRoot}", error.Message, StringComparison.Ordinal);
        Assert.Equal(5, monitor.Trusted!.Size);
    }

    [Fact]
    public async Task Update_ForkedTreeWithProofClaimingTheTrustedRoot_ConsistencyProofInvalid()
    {
        using var log = new FakeLog();
        var honest = Leaves("a", 5);
        log.Publish(honest);
        var monitor = log.Monitor();
        await monitor.UpdateAsync();
        var rewritten = honest.ToList();
        rewritten[0] = Rfc6962.HashLeaf("rewritten"u8);
        log.Publish([.. rewritten, .. Leaves("c", 2)]);
        log.Rewrite = proof => proof with { FromRootHash = Hex(MerkleTree.RootFromLeafHashes(honest)) };

        var error = await Assert.ThrowsAsync<TransparencyLogException>(() => monitor.UpdateAsync());

        Assert.Equal(TransparencyLogFailure.ConsistencyProofInvalid, error.Failure);
        Assert.StartsWith("the proof from 5 to 7 does not verify", error.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("sizes")]
    [InlineData("toRoot")]
    [InlineData("hex")]
    public async Task Update_ProofNotForTheSignedCheckpoints_ConsistencyProofInvalid(string defect)
    {
        using var log = new FakeLog();
        log.Publish(Leaves("a", 3));
        var monitor = log.Monitor();
        await monitor.UpdateAsync();
        log.Publish(Leaves("a", 10));
        log.Rewrite = defect switch
        {
            "sizes" => proof => proof with { From = 2 },
            "toRoot" => proof => proof with { ToRootHash = Hex(MerkleTree.RootFromLeafHashes(Leaves("z", 10))) },
            _ => proof => proof with { Proof = [.. proof.Proof.Select((h, i) => i == 0 ? h[..^2] : h)] },
        };

        var error = await Assert.ThrowsAsync<TransparencyLogException>(() => monitor.UpdateAsync());

        Assert.Equal(TransparencyLogFailure.ConsistencyProofInvalid, error.Failure);
        Assert.StartsWith(defect switch
        {
            "sizes" => "the proof is from 2 to 10, want 3 to 10",
            "toRoot" => "the proof ends at root 0x",
            _ => "the proof has a hash that is not 0x + 64 hex",
        }, error.Message, StringComparison.Ordinal);
        Assert.Equal(3, monitor.Trusted!.Size);
    }

    [Fact]
    public void Constructor_PersistedNoteAltered_ArgumentException()
    {
        using var log = new FakeLog();
        log.Publish(Leaves("a", 4));
        var altered = log.Note.Replace("\n4\n", "\n5\n", StringComparison.Ordinal);

        var error = Assert.Throws<ArgumentException>(() => log.Monitor(trustedNote: altered));

        Assert.Contains("invalid signature", error.Message, StringComparison.Ordinal);
        Assert.Equal(4, log.Monitor(trustedNote: log.Note).Trusted!.Size);
    }

    [Fact]
    public void VerifyConsistency_Offline_GrowthPassesRewindFails()
    {
        var key = NoteSigner.Generate(FakeLog.Origin);
        var leaves = Leaves("a", 9);
        var older = TransparencyLogMonitor.VerifyCheckpoint(FakeLog.Sign(key, leaves[..4]), key.Verifier);
        var newer = TransparencyLogMonitor.VerifyCheckpoint(FakeLog.Sign(key, leaves), key.Verifier);
        var proof = FakeLog.Proof(leaves, 4, 9);

        TransparencyLogMonitor.VerifyConsistency(older, newer, proof);
        var error = Assert.Throws<TransparencyLogException>(
            () => TransparencyLogMonitor.VerifyConsistency(newer, older, null));

        Assert.Equal(TransparencyLogFailure.TreeShrank, error.Failure);
    }

    private static byte[][] Leaves(string prefix, int count) =>
        [.. Enumerable.Range(0, count).Select(i => Rfc6962.HashLeaf(Encoding.UTF8.GetBytes($"{prefix}{i}")))];

    private static string Hex(byte[] hash) => "0x" + Convert.ToHexStringLower(hash);

    /// <summary>
    /// A fake log server: <c>/log/checkpoint</c> answers the note of the last <see cref="Publish"/>ed tree (signed by
    /// the log key unless another signer is given), <c>/log/proof/consistency</c> the honest RFC 6962 proof over that
    /// tree, passed through <see cref="Rewrite"/>.
    /// </summary>
    private sealed class FakeLog : HttpMessageHandler
    {
        public const string Origin = "fake.test/log";

        private readonly NoteSigner _key = NoteSigner.Generate(Origin);
        private byte[][] _leaves = [];

        public string Note { get; private set; } = "";

        public Func<ConsistencyProofResult, ConsistencyProofResult> Rewrite { get; set; } = proof => proof;

        public int ProofRequests { get; private set; }

        public void Publish(byte[][] leaves, NoteSigner? signer = null)
        {
            _leaves = leaves;
            Note = Sign(signer ?? _key, leaves);
        }

        public TransparencyLogMonitor Monitor(string? trustedNote = null) =>
            new(new TallyClient(new HttpClient(this, disposeHandler: false),
                new TallyClientOptions { ApiKey = "pk_test_fake.fake", BaseAddress = new Uri("http://fake.test/") }),
                _key.Verifier.VerifierKeyText, trustedNote);

        public static string Sign(NoteSigner signer, byte[][] leaves) =>
            signer.Sign(new Checkpoint(Origin, leaves.Length, MerkleTree.RootFromLeafHashes(leaves)).ToNoteText());

        public static ConsistencyProofResult Proof(byte[][] leaves, long from, long to) => new()
        {
            From = from,
            To = to,
            FromRootHash = Hex(MerkleTree.RootFromLeafHashes(leaves[..(int)from])),
            ToRootHash = Hex(MerkleTree.RootFromLeafHashes(leaves[..(int)to])),
            Proof = [.. MerkleTree.ConsistencyProof(leaves[..(int)to], from).Select(Hex)],
        };

        protected override Task<HttpResponseMessage> SendAsync(HttpRequestMessage request,
            CancellationToken cancellationToken)
        {
            var uri = request.RequestUri!;
            if (uri.AbsolutePath == "/log/checkpoint")
            {
                return Task.FromResult(new HttpResponseMessage(HttpStatusCode.OK) { Content = new StringContent(Note) });
            }
            Assert.Equal("/log/proof/consistency", uri.AbsolutePath);
            ProofRequests++;
            var query = System.Web.HttpUtility.ParseQueryString(uri.Query);
            var proof = Rewrite(Proof(_leaves, long.Parse(query["from"]!), long.Parse(query["to"]!)));
            var json = JsonSerializer.Serialize(new Envelope<ConsistencyProofResult>(true, proof),
                WireJson.Default.EnvelopeConsistencyProofResult);
            return Task.FromResult(new HttpResponseMessage(HttpStatusCode.OK)
            {
                Content = new StringContent(json, Encoding.UTF8, "application/json"),
            });
        }
    }

    /// <summary>Passes requests to the real server and flips one bit of the first hash of every consistency proof.
    /// </summary>
    private sealed class ProofTamperer() : DelegatingHandler(new SocketsHttpHandler())
    {
        public bool Tampered { get; private set; }

        protected override async Task<HttpResponseMessage> SendAsync(HttpRequestMessage request,
            CancellationToken cancellationToken)
        {
            var response = await base.SendAsync(request, cancellationToken);
            if (request.RequestUri!.AbsolutePath != "/log/proof/consistency")
            {
                return response;
            }
            var envelope = JsonSerializer.Deserialize(await response.Content.ReadAsByteArrayAsync(cancellationToken),
                WireJson.Default.EnvelopeConsistencyProofResult)!;
            var proof = envelope.Data.Proof.ToList();
            Assert.NotEmpty(proof);
            proof[0] = proof[0][..^1] + (proof[0][^1] == '0' ? '1' : '0');
            Tampered = true;
            response.Content = new StringContent(JsonSerializer.Serialize(
                envelope with { Data = envelope.Data with { Proof = proof } },
                WireJson.Default.EnvelopeConsistencyProofResult), Encoding.UTF8, "application/json");
            return response;
        }
    }
}
