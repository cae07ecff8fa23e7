using System.Globalization;
using System.Text;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Tallystick.Merkle;
using Tallystick.Server.Deltas;
using Tallystick.Tiles;
using Tallystick.Wire;

namespace Tallystick.Server.TransparencyLog;

/// <summary>
/// The transparency log's public read API under <c>/log/</c>, no API key: the C2SP tlog-tiles resources
/// (<c>checkpoint</c>, <c>tile/…</c>, <c>tile/entries/…</c>), the verifier key, and JSON inclusion and consistency
/// proofs computed from the stored tiles. Everything served is bounded by the latest published checkpoint.
/// </summary>
internal static class LogEndpoints
{
    /// <summary>Seconds a partial tile may be cached: its bytes never change, but the log may stop serving it once
    /// the full tile exists, so caches should come back for the full one.</summary>
    public const int PartialTileMaxAgeSeconds = 60;

    /// <summary>Seconds the verifier key may be cached (it never changes for a log; an hour bounds the damage of a
    /// misconfigured deployment).</summary>
    public const int KeyMaxAgeSeconds = 3600;

    private const string FullTileCacheControl = "public, max-age=31536000, immutable";
    private const string TextContentType = "text/plain; charset=utf-8";
    private const string BinaryContentType = "application/octet-stream";
    private const string LogPrefix = "/log/";

    private static readonly string PartialTileCacheControl =
        "public, max-age=" + PartialTileMaxAgeSeconds.ToString(CultureInfo.InvariantCulture);

    public static void MapLog(this IEndpointRouteBuilder app)
    {
        app.MapGet("/log/checkpoint", Checkpoint).WithName("LogCheckpoint").ExcludeFromDescription();
        app.MapGet("/log/key", Key).WithName("LogKey").ExcludeFromDescription();
        app.MapGet("/log/tile/{**path}", Tile).WithName("LogTile").ExcludeFromDescription();
        app.MapGet("/log/proof/inclusion", Inclusion).WithName("LogInclusionProof")
            .Produces<Envelope<InclusionProofResult>>().Produces<ErrorEnvelope>(400);
        app.MapGet("/log/proof/consistency", Consistency).WithName("LogConsistencyProof")
            .Produces<Envelope<ConsistencyProofResult>>().Produces<ErrorEnvelope>(400);
    }

    private static Task Checkpoint(HttpContext context, Sequencer sequencer)
    {
        context.Response.Headers.CacheControl = "no-cache";
        return WriteText(context, sequencer.Head.CheckpointNote);
    }

    private static Task Key(HttpContext context, Sequencer sequencer)
    {
        context.Response.Headers.CacheControl =
            "public, max-age=" + KeyMaxAgeSeconds.ToString(CultureInfo.InvariantCulture);
        return WriteText(context, sequencer.Verifier.VerifierKeyText + "\n");
    }

    private static Task Tile(HttpContext context, Sequencer sequencer, LogReader log)
    {
        var path = context.Request.Path.Value.AsSpan(LogPrefix.Length);
        if (!TilePath.TryParse(path, out var tile, out var problem))
        {
            return Error(context, new ApiError("INVALID_TILE_PATH", $"malformed tile path: {problem}"));
        }
        var size = sequencer.Head.CheckpointSize;
        var bytes = log.Read(tile, size);
        if (bytes is null)
        {
            return Error(context, new ApiError("TILE_NOT_FOUND",
                $"{tile} is not part of the latest checkpoint (tree size {size})"));
        }
        var response = context.Response;
        response.StatusCode = StatusCodes.Status200OK;
        response.ContentType = BinaryContentType;
        response.ContentLength = bytes.Length;
        response.Headers.CacheControl = tile.IsPartial ? PartialTileCacheControl : FullTileCacheControl;
        return response.Body.WriteAsync(bytes).AsTask();
    }

    private static Task Inclusion(HttpContext context, Sequencer sequencer, LogReader log)
    {
        var head = sequencer.Head;
        var (index, indexError) = RequiredNumber(context, "index");
        var (size, sizeError) = Http.QueryNumber(context, "size", head.CheckpointSize, 0, long.MaxValue);
        var error = indexError ?? sizeError ?? CheckPublished(size, "size", head.CheckpointSize);
        if (error is null && index >= size)
        {
            error = new ApiError("LEAF_INDEX_OUT_OF_RANGE",
                $"leaf index {index} is not in the tree of size {size}", "index");
        }
        if (error is not null)
        {
            return Error(context, error);
        }
        var proof = log.InclusionProof(index, size);
        var result = new InclusionProofResult
        {
            Index = index,
            Size = size,
            LeafHash = DeltaRows.Hex(log.NodeHash(new NodeId(0, index), size)),
            RootHash = DeltaRows.Hex(RootOf(size, head, log)),
            Proof = [.. proof.Select(DeltaRows.Hex)],
            Checkpoint = CheckpointOf(size, head, log),
        };
        context.Response.Headers.CacheControl = "no-cache";
        return Responses.Write(context, StatusCodes.Status200OK, result, WireJson.Default.EnvelopeInclusionProofResult);
    }

    private static Task Consistency(HttpContext context, Sequencer sequencer, LogReader log)
    {
        var head = sequencer.Head;
        var (from, fromError) = RequiredNumber(context, "from");
        var (to, toError) = Http.QueryNumber(context, "to", head.CheckpointSize, 0, long.MaxValue);
        var error = fromError ?? toError ?? CheckPublished(to, "to", head.CheckpointSize);
        if (error is null && from > to)
        {
            error = new ApiError("CONSISTENCY_RANGE_INVALID", $"from ({from}) is larger than to ({to})", "from");
        }
        if (error is not null)
        {
            return Error(context, error);
        }
        var proof = log.ConsistencyProof(from, to);
        var result = new ConsistencyProofResult
        {
            From = from,
            To = to,
            FromRootHash = DeltaRows.Hex(RootOf(from, head, log)),
            ToRootHash = DeltaRows.Hex(RootOf(to, head, log)),
            Proof = [.. proof.Select(DeltaRows.Hex)],
            Checkpoint = CheckpointOf(to, head, log),
        };
        context.Response.Headers.CacheControl = "no-cache";
        return Responses.Write(context, StatusCodes.Status200OK, result,
            WireJson.Default.EnvelopeConsistencyProofResult);
    }

    private static (long Value, ApiError? Error) RequiredNumber(HttpContext context, string name) =>
        context.Request.Query[name].Count == 0
            ? (0, new ApiError("INVALID_QUERY", $"'{name}' is required", name))
            : Http.QueryNumber(context, name, 0, 0, long.MaxValue);

    private static ApiError? CheckPublished(long size, string field, long published) =>
        size > published
            ? new ApiError("TREE_SIZE_NOT_PUBLISHED",
                $"{field} {size} is beyond the latest signed checkpoint (tree size {published})", field)
            : null;

    private static byte[] RootOf(long size, LogHead head, LogReader log) =>
        size == head.CheckpointSize ? head.CheckpointRoot : log.Root(size);

    private static CheckpointInfo? CheckpointOf(long size, LogHead head, LogReader log) =>
        size == head.CheckpointSize ? DeltaRows.Current(head) : log.Checkpoint(size);

    private static Task WriteText(HttpContext context, string text)
    {
        var bytes = Encoding.UTF8.GetBytes(text);
        var response = context.Response;
        response.StatusCode = StatusCodes.Status200OK;
        response.ContentType = TextContentType;
        response.ContentLength = bytes.Length;
        return response.Body.WriteAsync(bytes).AsTask();
    }

    private static Task Error(HttpContext context, ApiError error)
    {
        context.Response.Headers.CacheControl = "no-cache";
        return Responses.WriteError(context, error);
    }
}
