using Microsoft.Data.Sqlite;
using System.Buffers.Binary;
using System.Net;
using System.Security.Cryptography;
using System.Text.Json;
using Microsoft.Extensions.DependencyInjection;
using Tallystick.Merkle;
using Tallystick.Notes;
using Tallystick.Tiles;

namespace Tallystick.Server.Tests;

// Goal: a third party can mirror and audit the log over the public /log/ API alone (no API key): the checkpoint
// verifies under /log/key, the tiles and entry bundles are the C2SP tlog-tiles resources of exactly the signed
// tree, and the JSON proofs verify with Core. Method: emit > 256 entries through the batch endpoint (one entry per
// distinct customer), fetch everything over HTTP, recompute leaf hashes and roots with an independent recursive
// RFC 6962 MTH, and check cache headers, 404s for tiles beyond the checkpoint and 400s for malformed requests.
public sealed class LogApiTests(RunningServer server) : IClassFixture<RunningServer>
{
    private const string Origin = "test.tallystick/log";

    [Fact]
    public async Task Mirror_FetchesTilesAndBundles_RecomputesTheSignedRoot()
    {
        using (var emitter = server.Client())
        {
            await Api.EmitDistinctCustomers(emitter, "mirror", 300);
        }
        using var http = server.Client(apiKey: null);
        var (checkpoint, note, leaves) = await Mirror(http);
        Assert.True(checkpoint.Size >= 300, $"checkpoint size {checkpoint.Size}");
        Assert.Equal(checkpoint.RootHash, Mth(leaves, 0, leaves.Count));

        // Level 1 holds one hash per full level-0 tile: the root of its 256 leaves.
        long level1 = checkpoint.Size / 256;
        var tile1 = await Fetch(http, $"log/tile/1/000.p/{level1}", immutable: false);
        for (var i = 0; i < level1; i++)
        {
            Assert.Equal(Mth(leaves, i * 256, (i + 1) * 256), tile1.AsSpan(i * 32, 32).ToArray());
        }

        // The rightmost tile is still partial, so its full form does not exist yet; nor does a wider partial.
        long last = checkpoint.Size / 256;
        var width = checkpoint.Size % 256;
        Assert.NotEqual(0, width);
        await AssertError(http, $"log/tile/0/{TilePath.FormatIndex(last)}", 404, "TILE_NOT_FOUND");
        await AssertError(http, $"log/tile/entries/{TilePath.FormatIndex(last)}", 404, "TILE_NOT_FOUND");
        await AssertError(http, $"log/tile/0/{TilePath.FormatIndex(last)}.p/{width + 1}", 404, "TILE_NOT_FOUND");
        await AssertError(http, "log/tile/1/000", 404, "TILE_NOT_FOUND");
        await AssertError(http, "log/tile/2/000.p/1", 404, "TILE_NOT_FOUND");
        // A narrower partial tile (a tree size some earlier checkpoint had) is a prefix of the current one.
        var narrower = await Fetch(http, $"log/tile/0/{TilePath.FormatIndex(last)}.p/1", immutable: false);
        Assert.Equal(leaves[(int)(last * 256)], narrower);

        // The checkpoint is mutable: never cached; the key text is a parseable vkey line.
        using var response = await http.GetAsync("log/checkpoint");
        Assert.Equal("text/plain; charset=utf-8", response.Content.Headers.ContentType!.ToString());
        Assert.True(response.Headers.CacheControl!.NoCache);
        Assert.Equal(note, await response.Content.ReadAsStringAsync());
    }

    [Fact]
    public async Task Proofs_VerifyWithCoreAgainstIndependentlyComputedRoots()
    {
        using (var emitter = server.Client())
        {
            await Api.EmitDistinctCustomers(emitter, "proofs", 300);
        }
        using var http = server.Client(apiKey: null);
        var (checkpoint, note, leaves) = await Mirror(http);
        long size = checkpoint.Size;

        var (_, latest) = await Api.Get(http, "log/proof/inclusion?index=1");
        Assert.Equal(size, latest.GetProperty("data").GetProperty("size").GetInt64());
        Assert.Equal(note, latest.GetProperty("data").GetProperty("checkpoint").GetProperty("note").GetString());

        foreach (var (index, treeSize) in new[] { (0L, size), (1L, size), (255L, size), (256L, size), (size - 1, size),
                     (100L, 257L), (256L, 257L), (0L, 1L), (5L, 6L) })
        {
            var (status, body) = await Api.Get(http, $"log/proof/inclusion?index={index}&size={treeSize}");
            Assert.Equal(200, status);
            var data = body.GetProperty("data");
            var root = Mth(leaves, 0, (int)treeSize);
            Assert.Equal(index, data.GetProperty("index").GetInt64());
            Assert.Equal(treeSize, data.GetProperty("size").GetInt64());
            Assert.Equal(Hex(leaves[(int)index]), data.GetProperty("leafHash").GetString());
            Assert.Equal(Hex(root), data.GetProperty("rootHash").GetString());
            var proof = Hashes(data.GetProperty("proof"));
            var result = MerkleProof.VerifyInclusion(index, treeSize, leaves[(int)index], proof, root);
            Assert.True(result.IsValid, $"inclusion {index} in {treeSize}: {result}");
        }

        foreach (var (from, to) in new[] { (1L, size), (100L, size), (256L, size), (257L, size), (3L, 257L),
                     (256L, 300L), (0L, size), (size, size), (7L, 7L) })
        {
            var (status, body) = await Api.Get(http, $"log/proof/consistency?from={from}&to={to}");
            Assert.Equal(200, status);
            var data = body.GetProperty("data");
            var root1 = Mth(leaves, 0, (int)from);
            var root2 = Mth(leaves, 0, (int)to);
            Assert.Equal(Hex(root1), data.GetProperty("fromRootHash").GetString());
            Assert.Equal(Hex(root2), data.GetProperty("toRootHash").GetString());
            var proof = Hashes(data.GetProperty("proof"));
            var result = MerkleProof.VerifyConsistency(from, to, root1, root2, proof);
            Assert.True(result.IsValid, $"consistency {from} → {to}: {result}");
        }

        // `to` defaults to the latest checkpoint, whose signed note comes along.
        var (_, defaulted) = await Api.Get(http, "log/proof/consistency?from=10");
        Assert.Equal(size, defaulted.GetProperty("data").GetProperty("to").GetInt64());
        Assert.Equal(note, defaulted.GetProperty("data").GetProperty("checkpoint").GetProperty("note").GetString());
    }

    // The shared reader caches tiles, partial tiles of every width it met and the subtree hashes inside them: proofs
    // and roots for many tree sizes, read through one reader in an order that mixes widths, must all equal what the
    // entries themselves give (leaf hashes from log_entries, roots by the recursive reference MTH).
    [Fact]
    public async Task SharedReader_ProofsAndRootsForManySizes_MatchTheEntries()
    {
        using (var emitter = server.Client())
        {
            await Api.EmitDistinctCustomers(emitter, "reader", 600);
        }
        var reader = server.Services.GetRequiredService<TransparencyLog.LogReader>();
        long published = server.Services.GetRequiredService<Deltas.Sequencer>().Head.CheckpointSize;
        Assert.True(published >= 600, $"only {published} entries are published");
        var leaves = Enumerable.Range(0, 600).Select(i => Rfc6962.HashLeaf(reader.Entry(i)!)).ToList();

        CheckEverySize(reader, leaves);

        // The same through readers whose cache holds about two tiles, so nearly every read evicts another, from four
        // threads at once (eviction, re-reading and subtree computation racing each other).
        var database = server.Services.GetRequiredService<Storage.Database>();
        var tiny = new TransparencyLog.LogReader(database, cacheBytesMax: 20_000);
        await Task.WhenAll(Enumerable.Range(0, 4).Select(_ => Task.Run(() => CheckEverySize(tiny, leaves))));

        // Full tiles carry stored interior hashes (TileSubtrees); tiles written by builds before them have none and
        // their readers compute them: both must give the same proofs.
        using (var writer = new SqliteConnection(database.ConnectionString))
        {
            writer.Open();
            using var count = writer.CreateCommand();
            count.CommandText = "SELECT count(*) FROM log_tiles WHERE level = 0 AND idx < 2 AND length(subtrees) = 960";
            Assert.Equal(2L, count.ExecuteScalar());
            using var forget = writer.CreateCommand();
            forget.CommandText = "UPDATE log_tiles SET subtrees = NULL";
            forget.ExecuteNonQuery();
        }
        CheckEverySize(new TransparencyLog.LogReader(database, cacheBytesMax: 20_000), leaves);
    }

    private static void CheckEverySize(TransparencyLog.LogReader reader, List<byte[]> leaves)
    {
        long[] sizes = [599, 1, 2, 3, 255, 256, 257, 300, 511, 512, 513, 7, 129, 600, 258];
        foreach (var size in sizes)
        {
            var root = Mth(leaves, 0, (int)size);
            Assert.Equal(root, reader.Root(size));
            for (long index = 0; index < size; index += 1 + (index % 7))
            {
                var proof = reader.InclusionProof(index, size);
                var included = MerkleProof.VerifyInclusion(index, size, leaves[(int)index], proof, root);
                Assert.True(included.IsValid, $"inclusion {index} in {size}: {included}");
            }
            foreach (var older in sizes.Where(o => o <= size))
            {
                var consistent = MerkleProof.VerifyConsistency(older, size, Mth(leaves, 0, (int)older), root,
                    reader.ConsistencyProof(older, size));
                Assert.True(consistent.IsValid, $"consistency {older} → {size}: {consistent}");
            }
        }
    }

    [Fact]
    public async Task MalformedOrOutOfRangeRequests_AreRefusedWithPreciseCodes()
    {
        using var http = server.Client(apiKey: null);
        var note = await http.GetStringAsync("log/checkpoint");
        long size = Checkpoint.ParseNoteText(note[..(note.IndexOf("\n\n", StringComparison.Ordinal) + 1)]).Size;

        foreach (var path in new[] { "x000/001", "000.p/0", "000.p/256", "0000", "x001", "000/", "000.p/01" })
        {
            await AssertError(http, $"log/tile/0/{path}", 400, "INVALID_TILE_PATH");
        }
        await AssertError(http, "log/tile/64/000", 400, "INVALID_TILE_PATH");
        await AssertError(http, "log/tile/entries/abc", 400, "INVALID_TILE_PATH");
        await AssertError(http, "log/tile/0/x999/000", 404, "TILE_NOT_FOUND");
        await AssertError(http, "log/tile/entries/x999/000.p/1", 404, "TILE_NOT_FOUND");
        await AssertError(http, "log/tile/63/000.p/1", 404, "TILE_NOT_FOUND");

        await AssertError(http, $"log/proof/inclusion?index={size}&size={size}", 400, "LEAF_INDEX_OUT_OF_RANGE", "index");
        await AssertError(http, $"log/proof/inclusion?index=0&size={size + 1}", 400, "TREE_SIZE_NOT_PUBLISHED", "size");
        await AssertError(http, "log/proof/inclusion", 400, "INVALID_QUERY", "index");
        await AssertError(http, "log/proof/inclusion?index=-1", 400, "INVALID_QUERY", "index");
        await AssertError(http, "log/proof/inclusion?index=abc", 400, "INVALID_QUERY", "index");
        await AssertError(http, $"log/proof/consistency?from={size + 1}&to={size}", 400, "CONSISTENCY_RANGE_INVALID", "from");
        await AssertError(http, $"log/proof/consistency?from=0&to={size + 1}", 400, "TREE_SIZE_NOT_PUBLISHED", "to");
        await AssertError(http, "log/proof/consistency", 400, "INVALID_QUERY", "from");
    }

    /// <summary>Fetches key, checkpoint, every entry bundle and level-0 tile of the signed tree; checks the
    /// signature, the bundle format, that level-0 tiles are the leaf hashes, and the cache headers.</summary>
    private static async Task<(Checkpoint Checkpoint, string Note, List<byte[]> Leaves)> Mirror(HttpClient http)
    {
        using var keyResponse = await http.GetAsync("log/key");
        Assert.Equal(HttpStatusCode.OK, keyResponse.StatusCode);
        var keyText = await keyResponse.Content.ReadAsStringAsync();
        Assert.EndsWith("\n", keyText, StringComparison.Ordinal);
        var verifier = NoteVerifier.Parse(keyText.TrimEnd('\n'));
        Assert.Equal(Origin, verifier.Name);

        var note = await http.GetStringAsync("log/checkpoint");
        var verified = Checkpoint.TryVerify(note, verifier, Origin, out var checkpoint);
        Assert.True(verified.IsValid, verified.ToString());

        var leaves = new List<byte[]>();
        for (long n = 0; n * 256 < checkpoint!.Size; n++)
        {
            int width = (int)Math.Min(256, checkpoint.Size - (n * 256));
            var suffix = TilePath.FormatIndex(n) + (width < 256 ? $".p/{width}" : "");
            var bundle = await Fetch(http, "log/tile/entries/" + suffix, immutable: width == 256);
            var tile = await Fetch(http, "log/tile/0/" + suffix, immutable: width == 256);
            Assert.Equal(width * 32, tile.Length);
            var offset = 0;
            for (var i = 0; i < width; i++)
            {
                int length = BinaryPrimitives.ReadUInt16BigEndian(bundle.AsSpan(offset));
                var entry = bundle.AsSpan(offset + 2, length).ToArray();
                offset += 2 + length;
                Assert.Equal(41, entry.Length);
                Assert.Equal(0x01, entry[0]);
                var leaf = SHA256.HashData([0x00, .. entry]);
                Assert.Equal(leaf, tile.AsSpan(i * 32, 32).ToArray());
                leaves.Add(leaf);
            }
            Assert.Equal(bundle.Length, offset);
        }
        return (checkpoint, note, leaves);
    }

    private static async Task<byte[]> Fetch(HttpClient http, string path, bool immutable)
    {
        using var response = await http.GetAsync(path);
        Assert.True(response.StatusCode == HttpStatusCode.OK, $"{path}: {(int)response.StatusCode}");
        Assert.Equal("application/octet-stream", response.Content.Headers.ContentType!.MediaType);
        var cache = response.Headers.CacheControl!;
        Assert.True(cache.Public, path);
        Assert.Equal(immutable ? TimeSpan.FromDays(365) : TimeSpan.FromSeconds(60), cache.MaxAge);
        Assert.Equal(immutable, cache.Extensions.Any(e => e.Name == "immutable"));
        return await response.Content.ReadAsByteArrayAsync();
    }

    private static async Task AssertError(HttpClient http, string path, int status, string code, string? field = null)
    {
        using var response = await http.GetAsync(path);
        Assert.True((int)response.StatusCode == status, $"{path}: {(int)response.StatusCode}, want {status}");
        Assert.True(response.Headers.CacheControl!.NoCache, path);
        var body = await Api.Read(response);
        Assert.False(body.GetProperty("success").GetBoolean());
        Assert.Equal(code, Api.Code(body));
        if (field is not null)
        {
            Assert.Equal(field, body.GetProperty("error").GetProperty("field").GetString());
        }
    }

    private static List<byte[]> Hashes(JsonElement array) =>
        [.. array.EnumerateArray().Select(e => Convert.FromHexString(e.GetString()!.AsSpan(2)))];

    private static string Hex(byte[] hash) => "0x" + Convert.ToHexStringLower(hash);

    // RFC 6962 MTH written out literally, independent of Tallystick.Merkle.
    private static byte[] Mth(List<byte[]> leaves, int lo, int hi)
    {
        int n = hi - lo;
        if (n == 0)
        {
            return SHA256.HashData([]);
        }
        if (n == 1)
        {
            return leaves[lo];
        }
        int k = 1;
        while (k * 2 < n)
        {
            k *= 2;
        }
        return SHA256.HashData([0x01, .. Mth(leaves, lo, lo + k), .. Mth(leaves, lo + k, hi)]);
    }
}
