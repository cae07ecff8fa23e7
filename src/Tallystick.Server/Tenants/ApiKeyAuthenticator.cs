using System.Collections.Concurrent;
using System.Security.Cryptography;

namespace Tallystick.Server.Tenants;

/// <summary>
/// Resolves <c>X-Api-Key</c> to a plane. Keys are cached for <see cref="CacheTtl"/> so the hot path does no I/O;
/// a key revoked by the CLI stops working within that time (documented in docs/operations.md).
/// </summary>
internal sealed class ApiKeyAuthenticator(TenantDirectory directory, TimeProvider time)
{
    public static readonly TimeSpan CacheTtl = TimeSpan.FromSeconds(2);
    public const int CacheEntriesMax = 10_000;

    private readonly ConcurrentDictionary<string, Entry> _cache = new(StringComparer.Ordinal);

    public Plane? Authenticate(string? presented)
    {
        var key = ApiKey.TryParse(presented);
        if (key is null)
        {
            return null;
        }
        var now = time.GetTimestamp();
        if (!_cache.TryGetValue(key.PublicId, out var entry) || time.GetElapsedTime(entry.LoadedAt, now) > CacheTtl)
        {
            var found = directory.FindActiveKey(key.PublicId);
            entry = new Entry(found?.Plane, found?.SecretHash, now);
            if (_cache.Count >= CacheEntriesMax)
            {
                _cache.Clear();
            }
            _cache[key.PublicId] = entry;
        }
        if (entry.Plane is null || entry.SecretHash is null || entry.Plane.Environment != key.Environment)
        {
            return null;
        }
        return CryptographicOperations.FixedTimeEquals(entry.SecretHash, key.SecretHash()) ? entry.Plane : null;
    }

    private sealed record Entry(Plane? Plane, byte[]? SecretHash, long LoadedAt);
}
