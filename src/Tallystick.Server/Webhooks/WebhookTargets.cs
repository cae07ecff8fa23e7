using System.Net;
using System.Net.Sockets;

namespace Tallystick.Server.Webhooks;

/// <summary>
/// Where webhooks may be sent (SSRF protection): http(s) URLs whose host resolves only to public addresses. Loopback,
/// private (RFC 1918, fc00::/7), link-local (169.254/16 with the 169.254.169.254 metadata address, fe80::/10), CGNAT
/// (100.64/10), unspecified (0.0.0.0, ::), multicast and reserved addresses are refused unless
/// <see cref="TallyOptions.WebhooksAllowPrivateTargets"/>. Checked when an endpoint is registered and again at every
/// connection (<see cref="ConnectAsync"/>), so a name re-pointed to a private address later (DNS rebinding) is
/// still refused.
/// </summary>
internal sealed class WebhookTargets(bool allowPrivate)
{
    public const int UrlCharsMax = 2048;

    public bool AllowPrivate { get; } = allowPrivate;

    /// <summary>Checks a URL at registration; the refusal as a value (null when allowed).</summary>
    public async Task<ApiError?> Check(string? url, CancellationToken cancellation)
    {
        if (url is null || url.Length is 0 or > UrlCharsMax ||
            !Uri.TryCreate(url, UriKind.Absolute, out var uri) || uri.Scheme is not ("http" or "https") ||
            string.IsNullOrEmpty(uri.Host) || !string.IsNullOrEmpty(uri.UserInfo))
        {
            return new ApiError("VALIDATION_ERROR",
                $"url must be an absolute http(s) URL without credentials, at most {UrlCharsMax} characters", "url");
        }
        if (AllowPrivate)
        {
            return null;
        }
        IPAddress[] addresses;
        try
        {
            addresses = IPAddress.TryParse(uri.DnsSafeHost, out var literal)
                ? [literal]
                : await Dns.GetHostAddressesAsync(uri.DnsSafeHost, cancellation);
        }
        catch (SocketException)
        {
            return new ApiError("WEBHOOK_URL_NOT_ALLOWED", $"the host '{uri.Host}' does not resolve", "url");
        }
        return addresses.Length == 0 || addresses.Any(a => !IsPublic(a))
            ? new ApiError("WEBHOOK_URL_NOT_ALLOWED",
                $"'{uri.Host}' resolves to a loopback, private, link-local or otherwise non-public address", "url")
            : null;
    }

    /// <summary>
    /// The HTTP client's connect step: resolves the host and connects only to an address that passes the policy
    /// (the one that was checked is the one connected to).
    /// </summary>
    public async ValueTask<Stream> ConnectAsync(SocketsHttpConnectionContext context, CancellationToken cancellation)
    {
        var host = context.DnsEndPoint.Host;
        var addresses = IPAddress.TryParse(host, out var literal)
            ? [literal]
            : await Dns.GetHostAddressesAsync(host, cancellation);
        var allowed = addresses.Where(a => AllowPrivate || IsPublic(a)).ToArray();
        if (allowed.Length == 0)
        {
            throw new HttpRequestException($"webhook target '{host}' refused: it resolves to a non-public address");
        }
        var socket = new Socket(SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
        try
        {
            await socket.ConnectAsync(allowed, context.DnsEndPoint.Port, cancellation);
            return new NetworkStream(socket, ownsSocket: true);
        }
        catch
        {
            socket.Dispose();
            throw;
        }
    }

    public static bool IsPublic(IPAddress address)
    {
        if (address.IsIPv4MappedToIPv6)
        {
            address = address.MapToIPv4();
        }
        if (IPAddress.IsLoopback(address) || address.Equals(IPAddress.Any) || address.Equals(IPAddress.IPv6Any) ||
            address.Equals(IPAddress.IPv6None))
        {
            return false;
        }
        var b = address.GetAddressBytes();
        if (address.AddressFamily == AddressFamily.InterNetwork)
        {
            return !(b[0] is 0 or 10 or 127 || b[0] >= 224 ||
                (b[0] == 169 && b[1] == 254) ||
                (b[0] == 172 && b[1] >= 16 && b[1] <= 31) ||
                (b[0] == 192 && b[1] == 168) ||
                (b[0] == 100 && b[1] >= 64 && b[1] <= 127) ||
                (b[0] == 192 && b[1] == 0 && b[2] == 0) ||
                (b[0] == 198 && b[1] is 18 or 19));
        }
        return !((b[0] & 0xfe) == 0xfc ||               // fc00::/7 unique local
            (b[0] == 0xfe && (b[1] & 0xc0) == 0x80) ||   // fe80::/10 link-local
            (b[0] == 0xfe && (b[1] & 0xc0) == 0xc0) ||   // fec0::/10 site-local (deprecated)
            b[0] == 0xff ||                              // multicast
            (b[0] == 0x20 && b[1] == 0x01 && b[2] == 0x0d && b[3] == 0xb8) || // documentation
            (b[0] == 0 && b.Take(10).All(x => x == 0))); // IPv4-compatible and other ::/80 forms
    }
}
