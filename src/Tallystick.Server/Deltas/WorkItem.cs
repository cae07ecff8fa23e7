using System.Security.Cryptography;
using Tallystick.Deltas;
using Tallystick.Server.Tenants;

namespace Tallystick.Server.Deltas;

/// <summary>One emit request waiting for the sequencer: validated items and how to answer.</summary>
internal sealed class WorkItem(Plane plane, IReadOnlyList<ParsedItem> items, bool isBatch,
    string? idempotencyKey, byte[]? fingerprint)
{
    public Plane Plane { get; } = plane;

    public IReadOnlyList<ParsedItem> Items { get; } = items;

    public bool IsBatch { get; } = isBatch;

    public string? IdempotencyKey { get; } = idempotencyKey;

    public byte[]? Fingerprint { get; } = fingerprint;

    public int DeltaCount => Items.Count;

    /// <summary>
    /// One fresh CSPRNG salt per item, drawn here in one call on the request's thread rather than per delta on
    /// the sequencer's (where it cost a tenth of its time).
    /// </summary>
    public byte[] Salts { get; } = RandomNumberGenerator.GetBytes(items.Count * DeltaItem.SaltBytes);

    public ReadOnlyMemory<byte> Salt(int index) => Salts.AsMemory(index * DeltaItem.SaltBytes, DeltaItem.SaltBytes);

    public TaskCompletionSource<Answer> Completion { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);
}

/// <summary>A fully rendered HTTP answer (status and envelope bytes), as stored for Idempotency-Key replays.</summary>
internal sealed record Answer(int StatusCode, byte[] Body);
