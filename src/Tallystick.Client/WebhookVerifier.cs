using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using Tallystick.Webhooks;

namespace Tallystick.Client;

/// <summary>
/// Checks that a webhook delivery is genuine and fresh, on the raw body bytes exactly as received (never re-serialise
/// the JSON first). Two schemes are understood:
/// <list type="bullet">
/// <item><b>PacSpace</b>: <c>X-PacSpace-Signature: v1=&lt;hex&gt;</c> (several comma-separated <c>v1=</c> values
/// during a secret rotation) with <c>X-PacSpace-Timestamp</c> in Unix seconds or milliseconds (values ≥ 10^12 are
/// milliseconds), or the <c>Pacspace-Signature: t=&lt;unix&gt;,v1=&lt;hex&gt;</c> form, whose <c>t</c> is then the
/// signed timestamp. The signature is lowercase hex of HMAC-SHA256 keyed with the whole secret string
/// (<c>whsec_…</c> included) as UTF-8, over <c>{timestamp}.{body}</c>. Parts other than <c>t=</c> and <c>v1=</c>
/// (e.g. <c>v0=</c>) are ignored.</item>
/// <item><b>Standard Webhooks</b>: <c>webhook-id</c>, <c>webhook-timestamp</c> (Unix seconds) and
/// <c>webhook-signature: v1,&lt;base64&gt;</c> (a space-separated list; other versions are ignored). The key is the
/// base64 decoding of the secret after <c>whsec_</c>; the signed content is <c>{id}.{timestamp}.{body}</c>.</item>
/// </list>
/// </summary>
/// <remarks>
/// A delivery is accepted when its timestamp is within the tolerance of the clock (either direction) and any
/// signature matches any configured secret (pass the current and the previous secret while rotating). Signatures are
/// compared in constant time. Expected failures are values (<see cref="WebhookVerificationStatus"/>), never
/// exceptions. Immutable and thread-safe: build one per endpoint and reuse it.
/// </remarks>
public sealed class WebhookVerifier
{
    /// <summary>The default tolerance: 5 minutes either way, as PacSpace's SDKs and the Standard Webhooks libraries.
    /// </summary>
    public static readonly TimeSpan DefaultTolerance = TimeSpan.FromMinutes(5);

    /// <summary>The PacSpace signature header.</summary>
    public const string PacSpaceSignatureHeader = "X-PacSpace-Signature";

    /// <summary>The PacSpace signature header in the <c>t=…,v1=…</c> form.</summary>
    public const string PacSpaceCompactSignatureHeader = "Pacspace-Signature";

    /// <summary>The PacSpace timestamp header (Unix seconds or milliseconds).</summary>
    public const string PacSpaceTimestampHeader = "X-PacSpace-Timestamp";

    /// <summary>The Standard Webhooks message id header.</summary>
    public const string StandardIdHeader = "webhook-id";

    /// <summary>The Standard Webhooks timestamp header (Unix seconds).</summary>
    public const string StandardTimestampHeader = "webhook-timestamp";

    /// <summary>The Standard Webhooks signature header.</summary>
    public const string StandardSignatureHeader = "webhook-signature";

    private const long MillisecondsThreshold = 1_000_000_000_000;
    private const int HmacBytes = 32;

    private readonly byte[][] _pacSpaceKeys;
    private readonly byte[][] _standardKeys;
    private readonly TimeProvider _time;
    private readonly TimeSpan _tolerance;

    /// <summary>Creates a verifier for one secret.</summary>
    /// <inheritdoc cref="WebhookVerifier(IEnumerable{string}, TimeProvider?, TimeSpan?)"/>
    public WebhookVerifier(string secret, TimeProvider? timeProvider = null, TimeSpan? tolerance = null)
        : this([secret], timeProvider, tolerance)
    {
    }

    /// <summary>Creates a verifier accepting a signature by any of <paramref name="secrets"/>.</summary>
    /// <param name="secrets">One or more webhook secrets (<c>whsec_…</c>; the prefix is optional for Standard
    /// Webhooks). A secret that is not base64 after the prefix is used for the PacSpace scheme only.</param>
    /// <param name="timeProvider">The clock the timestamp is checked against; <see cref="TimeProvider.System"/> when
    /// null.</param>
    /// <param name="tolerance">How far the timestamp may be from now, either way; <see cref="DefaultTolerance"/> when
    /// null.</param>
    /// <exception cref="ArgumentException">No secrets, or an empty one.</exception>
    /// <exception cref="ArgumentOutOfRangeException">A negative tolerance.</exception>
    public WebhookVerifier(IEnumerable<string> secrets, TimeProvider? timeProvider = null, TimeSpan? tolerance = null)
    {
        ArgumentNullException.ThrowIfNull(secrets);
        var list = secrets.ToList();
        if (list.Count == 0 || list.Any(string.IsNullOrEmpty))
        {
            throw new ArgumentException("at least one secret is required, and none may be empty", nameof(secrets));
        }
        _tolerance = tolerance ?? DefaultTolerance;
        ArgumentOutOfRangeException.ThrowIfLessThan(_tolerance, TimeSpan.Zero, nameof(tolerance));
        _time = timeProvider ?? TimeProvider.System;
        _pacSpaceKeys = list.Select(WebhookSignatures.PacSpaceKey).ToArray();
        _standardKeys = list.Select(WebhookSignatures.StandardKey).OfType<byte[]>().ToArray();
    }

    /// <summary>
    /// Verifies a delivery, choosing the scheme from the headers present: Standard Webhooks when
    /// <c>webhook-signature</c> is present, else PacSpace. Header names are matched case-insensitively.
    /// </summary>
    /// <param name="header">Returns a header's value, or null when absent. In ASP.NET Core:
    /// <c>name =&gt; request.Headers[name].FirstOrDefault()</c>.</param>
    /// <param name="body">The raw request body.</param>
    public WebhookVerificationStatus Verify(Func<string, string?> header, ReadOnlySpan<byte> body)
    {
        ArgumentNullException.ThrowIfNull(header);
        if (header(StandardSignatureHeader) is { } standard)
        {
            return VerifyStandard(header(StandardIdHeader), header(StandardTimestampHeader), standard, body);
        }
        var signature = header(PacSpaceSignatureHeader) ?? header(PacSpaceCompactSignatureHeader);
        return signature is null
            ? WebhookVerificationStatus.MissingHeader
            : VerifyPacSpace(signature, header(PacSpaceTimestampHeader), body);
    }

    /// <summary>Verifies a delivery given its headers as name/value pairs (names case-insensitive; the first value of
    /// a repeated header is used).</summary>
    /// <inheritdoc cref="Verify(Func{string, string?}, ReadOnlySpan{byte})"/>
    /// <param name="headers">The request headers.</param>
    /// <param name="body">The raw request body.</param>
    public WebhookVerificationStatus Verify(IEnumerable<KeyValuePair<string, string>> headers, ReadOnlySpan<byte> body)
    {
        ArgumentNullException.ThrowIfNull(headers);
        var lookup = new Dictionary<string, string>(StringComparer.OrdinalIgnoreCase);
        foreach (var (name, value) in headers)
        {
            lookup.TryAdd(name, value);
        }
        return Verify(name => lookup.GetValueOrDefault(name), body);
    }

    /// <summary>Verifies a PacSpace-signed delivery.</summary>
    /// <param name="signature">The <c>X-PacSpace-Signature</c> (or <c>Pacspace-Signature</c>) value.</param>
    /// <param name="timestamp">The <c>X-PacSpace-Timestamp</c> value; may be null when the signature carries
    /// <c>t=</c>, which takes precedence.</param>
    /// <param name="body">The raw request body.</param>
    public WebhookVerificationStatus VerifyPacSpace(string? signature, string? timestamp, ReadOnlySpan<byte> body)
    {
        if (string.IsNullOrEmpty(signature))
        {
            return WebhookVerificationStatus.MissingHeader;
        }
        var candidates = new List<byte[]>();
        string? signedTimestamp = null;
        foreach (var part in signature.Split(',', StringSplitOptions.TrimEntries))
        {
            if (part.StartsWith("t=", StringComparison.Ordinal))
            {
                signedTimestamp = part[2..];
            }
            else if (part.StartsWith("v1=", StringComparison.Ordinal) && TryHex(part[3..], out var bytes))
            {
                candidates.Add(bytes);
            }
        }
        signedTimestamp ??= timestamp;
        if (signedTimestamp is null)
        {
            return WebhookVerificationStatus.MissingHeader;
        }
        if (candidates.Count == 0)
        {
            return WebhookVerificationStatus.MalformedSignature;
        }
        if (ParseUnixSeconds(signedTimestamp, allowMilliseconds: true) is not { } seconds)
        {
            return WebhookVerificationStatus.MalformedTimestamp;
        }
        if (!IsFresh(seconds))
        {
            return WebhookVerificationStatus.TimestampOutsideTolerance;
        }
        var prefix = Encoding.UTF8.GetBytes(signedTimestamp + ".");
        return AnyMatches(_pacSpaceKeys, prefix, body, candidates)
            ? WebhookVerificationStatus.Verified
            : WebhookVerificationStatus.SignatureMismatch;
    }

    /// <summary>Verifies a Standard Webhooks delivery (symmetric <c>v1</c> signatures).</summary>
    /// <param name="id">The <c>webhook-id</c> value.</param>
    /// <param name="timestamp">The <c>webhook-timestamp</c> value (Unix seconds).</param>
    /// <param name="signature">The <c>webhook-signature</c> value.</param>
    /// <param name="body">The raw request body.</param>
    public WebhookVerificationStatus VerifyStandard(string? id, string? timestamp, string? signature,
        ReadOnlySpan<byte> body)
    {
        if (string.IsNullOrEmpty(id) || string.IsNullOrEmpty(timestamp) || string.IsNullOrEmpty(signature))
        {
            return WebhookVerificationStatus.MissingHeader;
        }
        if (ParseUnixSeconds(timestamp, allowMilliseconds: false) is not { } seconds)
        {
            return WebhookVerificationStatus.MalformedTimestamp;
        }
        if (!IsFresh(seconds))
        {
            return WebhookVerificationStatus.TimestampOutsideTolerance;
        }
        var candidates = new List<byte[]>();
        foreach (var entry in signature.Split(' ', StringSplitOptions.RemoveEmptyEntries))
        {
            if (entry.StartsWith("v1,", StringComparison.Ordinal) && TryBase64(entry[3..], out var bytes))
            {
                candidates.Add(bytes);
            }
        }
        if (candidates.Count == 0)
        {
            return WebhookVerificationStatus.MalformedSignature;
        }
        var prefix = Encoding.UTF8.GetBytes($"{id}.{timestamp}.");
        return AnyMatches(_standardKeys, prefix, body, candidates)
            ? WebhookVerificationStatus.Verified
            : WebhookVerificationStatus.SignatureMismatch;
    }

    /// <summary>HMAC-SHA256 of <paramref name="prefix"/> followed by <paramref name="body"/>, without copying the body.
    /// </summary>
    internal static byte[] Hmac(byte[] key, ReadOnlySpan<byte> prefix, ReadOnlySpan<byte> body) =>
        WebhookSignatures.Hmac(key, prefix, body);

    private static bool AnyMatches(byte[][] keys, byte[] prefix, ReadOnlySpan<byte> body, List<byte[]> candidates)
    {
        var matched = false;
        foreach (var key in keys)
        {
            var expected = Hmac(key, prefix, body);
            foreach (var candidate in candidates)
            {
                // Every pair is compared (no early exit) so timing does not tell which secret or entry matched.
                matched |= CryptographicOperations.FixedTimeEquals(expected, candidate);
            }
        }
        return matched;
    }

    private bool IsFresh(long unixSeconds)
    {
        var age = _time.GetUtcNow().ToUnixTimeSeconds() - unixSeconds;
        return Math.Abs(age) <= (long)_tolerance.TotalSeconds;
    }

    /// <summary>Digits only (no sign, spaces or exponent), bounded so arithmetic on it cannot overflow.</summary>
    private static long? ParseUnixSeconds(string text, bool allowMilliseconds)
    {
        if (text.Length is 0 or > 16 || !long.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture,
                out var value))
        {
            return null;
        }
        return allowMilliseconds && value >= MillisecondsThreshold ? value / 1000 : value;
    }

    private static bool TryHex(string text, out byte[] bytes)
    {
        bytes = [];
        if (text.Length != HmacBytes * 2)
        {
            return false;
        }
        try
        {
            bytes = Convert.FromHexString(text);
            return true;
        }
        catch (FormatException)
        {
            return false;
        }
    }

    private static bool TryBase64(string text, out byte[] bytes)
    {
        var buffer = new byte[text.Length * 3 / 4 + 3];
        if (Convert.TryFromBase64String(text, buffer, out var written))
        {
            bytes = buffer[..written];
            return true;
        }
        bytes = [];
        return false;
    }
}

/// <summary>The outcome of a <see cref="WebhookVerifier"/> check. Only <see cref="Verified"/> means "process it".
/// </summary>
public enum WebhookVerificationStatus
{
    /// <summary>Fresh and signed by one of the secrets.</summary>
    Verified,

    /// <summary>A signature, timestamp or (Standard Webhooks) id header is absent or empty.</summary>
    MissingHeader,

    /// <summary>The signature header holds no well-formed signature of a supported version.</summary>
    MalformedSignature,

    /// <summary>The timestamp is not a non-negative integer.</summary>
    MalformedTimestamp,

    /// <summary>The timestamp is further from now than the tolerance (a replay, or clock skew).</summary>
    TimestampOutsideTolerance,

    /// <summary>No signature matches: wrong secret, or the body or timestamp was altered.</summary>
    SignatureMismatch,
}
