using System.Collections.Concurrent;
using System.Security.Cryptography;
using Tallystick.Server.Storage;

namespace Tallystick.Server.Deltas;

/// <summary>
/// Idempotency-Key handling. A key is "in flight" from the moment a request claims it until its transaction
/// commits; the stored answer is written in that same transaction, so there is no moment where a retry could
/// be processed twice. Keys are per plane and kept for the configured retention (≥ 30 days).
/// </summary>
internal sealed class IdempotencyKeys(Database database)
{
    private readonly ConcurrentDictionary<(long Number, string Text), byte> _inFlight = new(KeyComparer.Instance);

    public static ApiError? Validate(string key) =>
        key.Length is 0 or > Limits.IdempotencyKeyCharsMax || key.Any(c => c is < '!' or > '~')
            ? new ApiError("INVALID_IDEMPOTENCY_KEY",
                $"Idempotency-Key must be 1–{Limits.IdempotencyKeyCharsMax} printable ASCII characters without spaces")
            : null;

    public bool TryClaim(long plane, string key) => _inFlight.TryAdd((plane, key), 0);

    public void Release(long plane, string key) => _inFlight.TryRemove((plane, key), out _);

    /// <summary>The stored answer for a completed key, or null; <paramref name="conflict"/> when the body differs.</summary>
    public Answer? Find(long plane, string key, byte[] fingerprint, out bool conflict)
    {
        conflict = false;
        using var connection = database.Open();
        using var command = connection.CreateCommand();
        command.CommandText = "SELECT fingerprint, status_code, response FROM idempotency_keys WHERE plane_id = $p AND key = $k";
        command.Parameters.AddWithValue("$p", plane);
        command.Parameters.AddWithValue("$k", key);
        using var reader = command.ExecuteReader();
        if (!reader.Read())
        {
            return null;
        }
        if (!CryptographicOperations.FixedTimeEquals((byte[])reader[0], fingerprint))
        {
            conflict = true;
            return null;
        }
        return new Answer(reader.GetInt32(1), (byte[])reader[2]);
    }
}
