using System.Runtime.InteropServices;
using Org.BouncyCastle.Crypto.Parameters;
using Org.BouncyCastle.Crypto.Signers;

namespace Tallystick.Notes;

/// <summary>Which implementation checks Ed25519 signatures (see <see cref="Ed25519Verification"/>).</summary>
internal enum Ed25519Backend
{
    /// <summary>libsodium's <c>crypto_sign_ed25519_verify_detached</c>: the fastest (docs/sdk.md has figures).</summary>
    Sodium,

    /// <summary>OpenSSL 3 libcrypto's <c>EVP_DigestVerify</c>: about half libsodium's speed.</summary>
    OpenSsl,

    /// <summary>BouncyCastle, managed code, available everywhere: the slowest.</summary>
    Managed,
}

/// <summary>
/// Ed25519 signature verification for one public key (RFC 8032, as signed notes use it). Uses the fastest
/// implementation this machine has: libsodium, else OpenSSL 3 libcrypto (which .NET itself loads on Linux), else the
/// managed BouncyCastle one. <c>TALLY_ED25519=sodium|openssl|managed</c> (or the older
/// <c>TALLY_ED25519_MANAGED=1</c>) forces one; a forced native library that cannot be loaded falls back to managed.
/// </summary>
/// <remarks>
/// Every implementation gives the same verdict on every input, so the choice can never change what verifies. They
/// differ in what they check beyond the RFC 8032 equation, so the checks the strictest one (libsodium) adds are made
/// here for all of them: a public key must be a canonical encoding of a point that is not of small order (else the
/// constructor throws), and a signature whose R is of small order or whose S is not reduced (S ≥ L) is refused. The
/// tests cross-check all implementations on published vectors, seeded random keys, every single-bit change of
/// signature and message, unreduced scalars and every small-order encoding. Thread-safe.
/// </remarks>
internal sealed class Ed25519Verification
{
    // The encodings of the points of order 1, 2, 4 and 8 (with the sign bit clear), as libsodium lists them.
    private static readonly byte[][] SmallOrderEncodings =
    [
        Convert.FromHexString("0000000000000000000000000000000000000000000000000000000000000000"),
        Convert.FromHexString("0100000000000000000000000000000000000000000000000000000000000000"),
        Convert.FromHexString("26e8958fc2b227b045c3f489f2ef98f0d5dfac05d3c63339b13802886d53fc05"),
        Convert.FromHexString("c7176a703d4dd84fba3c0b760d10670f2a2053fa2c39ccc64ec7fd7792ac037a"),
        Convert.FromHexString("ecffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f"),
        Convert.FromHexString("edffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f"),
        Convert.FromHexString("eeffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f"),
    ];

    // L, the order of the base point, little-endian.
    private static readonly byte[] GroupOrder = Convert.FromHexString(
        "edd3f55c1a631258d69cf7a2def9de1400000000000000000000000000000010");

    private static readonly Lazy<Ed25519Backend> Preferred = new(ChooseBackend);

    private readonly byte[] _publicKey;
    private readonly Ed25519PublicKeyParameters? _managed;
    private readonly OpenSslKey? _openSsl;

    /// <summary>Prepares verification under <paramref name="publicKey"/> with <paramref name="backend"/>, or the
    /// fastest one available when null.</summary>
    /// <exception cref="ArgumentException">The key is not 32 bytes, not a canonical point encoding, or a point of
    /// small order (which would accept forged signatures); or the requested backend is not available here.</exception>
    public Ed25519Verification(byte[] publicKey, Ed25519Backend? backend = null)
    {
        ArgumentNullException.ThrowIfNull(publicKey);
        if (DescribeUnusableKey(publicKey) is { } problem)
        {
            throw new ArgumentException(problem, nameof(publicKey));
        }
        _publicKey = (byte[])publicKey.Clone();
        Backend = backend ?? Preferred.Value;
        switch (Backend)
        {
            case Ed25519Backend.Sodium when !Sodium.IsAvailable:
                throw new ArgumentException("libsodium is not available on this machine", nameof(backend));
            case Ed25519Backend.OpenSsl:
                _openSsl = OpenSslKey.TryCreate(_publicKey)
                    ?? throw new ArgumentException("OpenSSL 3 libcrypto is not available on this machine", nameof(backend));
                break;
            case Ed25519Backend.Managed:
                _managed = new Ed25519PublicKeyParameters(_publicKey, 0);
                break;
        }
    }

    /// <summary>Why <paramref name="publicKey"/> cannot serve as a verification key, or null when it can: it must be
    /// 32 bytes, a canonical point encoding (y &lt; 2^255 − 19), and not a point of small order.</summary>
    public static string? DescribeUnusableKey(ReadOnlySpan<byte> publicKey) =>
        publicKey.Length != NoteVerifier.KeySize
            ? $"an Ed25519 public key is {NoteVerifier.KeySize} bytes, not {publicKey.Length}"
            : !IsCanonicalPoint(publicKey)
                ? "the Ed25519 public key is not a canonical point encoding (y >= 2^255 - 19)"
                : IsSmallOrder(publicKey)
                    ? "the Ed25519 public key is a point of small order, under which forged signatures would verify"
                    : null;

    /// <summary>The implementation this instance uses.</summary>
    public Ed25519Backend Backend { get; }

    /// <summary>The implementations this machine can load, fastest first (always ends with
    /// <see cref="Ed25519Backend.Managed"/>).</summary>
    public static IReadOnlyList<Ed25519Backend> Available { get; } =
    [
        .. Sodium.IsAvailable ? [Ed25519Backend.Sodium] : Array.Empty<Ed25519Backend>(),
        .. OpenSslKey.IsAvailable ? [Ed25519Backend.OpenSsl] : Array.Empty<Ed25519Backend>(),
        Ed25519Backend.Managed,
    ];

    /// <summary>Checks a 64-byte signature over <paramref name="message"/>; false for any malformed signature.</summary>
    public bool Verify(ReadOnlySpan<byte> message, ReadOnlySpan<byte> signature)
    {
        if (signature.Length != NoteVerifier.SignatureSize || IsSmallOrder(signature[..32]) ||
            !IsReducedScalar(signature[32..]))
        {
            return false;
        }
        switch (Backend)
        {
            case Ed25519Backend.Sodium:
                return Sodium.Verify(_publicKey, message, signature);
            case Ed25519Backend.OpenSsl:
                return _openSsl!.Verify(message, signature);
            default:
                var verifier = new Ed25519Signer();
                verifier.Init(false, _managed);
                var bytes = message.ToArray();
                verifier.BlockUpdate(bytes, 0, bytes.Length);
                return verifier.VerifySignature(signature.ToArray());
        }
    }

    private static Ed25519Backend ChooseBackend()
    {
        var forced = Environment.GetEnvironmentVariable("TALLY_ED25519")?.Trim().ToLowerInvariant();
        if (forced == "managed" || Environment.GetEnvironmentVariable("TALLY_ED25519_MANAGED") is "1" or "true")
        {
            return Ed25519Backend.Managed;
        }
        if (forced == "openssl")
        {
            return OpenSslKey.IsAvailable ? Ed25519Backend.OpenSsl : Ed25519Backend.Managed;
        }
        if (forced == "sodium")
        {
            return Sodium.IsAvailable ? Ed25519Backend.Sodium : Ed25519Backend.Managed;
        }
        return Available[0];
    }

    // True when the encoding equals one of a small-order point, ignoring the sign bit (as libsodium compares).
    private static bool IsSmallOrder(ReadOnlySpan<byte> encoding)
    {
        foreach (var candidate in SmallOrderEncodings)
        {
            if (encoding[..31].SequenceEqual(candidate.AsSpan(0, 31)) && (encoding[31] & 0x7f) == candidate[31])
            {
                return true;
            }
        }
        return false;
    }

    // A canonical encoding has y < p = 2^255 - 19; the non-canonical ones are y in [p, 2^255), i.e. byte 0 >= 0xed,
    // bytes 1..30 all 0xff and byte 31 (sign bit ignored) 0x7f.
    private static bool IsCanonicalPoint(ReadOnlySpan<byte> encoding)
    {
        if ((encoding[31] & 0x7f) != 0x7f || encoding[0] < 0xed)
        {
            return true;
        }
        return encoding[1..31].ContainsAnyExcept((byte)0xff);
    }

    // S < L, comparing little-endian from the most significant byte.
    private static bool IsReducedScalar(ReadOnlySpan<byte> scalar)
    {
        for (var i = 31; i >= 0; i--)
        {
            if (scalar[i] != GroupOrder[i])
            {
                return scalar[i] < GroupOrder[i];
            }
        }
        return false;
    }

    /// <summary>libsodium (<c>libsodium.so.23</c> on Linux), loaded once.</summary>
    private static unsafe class Sodium
    {
        private static readonly delegate* unmanaged<byte*, byte*, ulong, byte*, int> VerifyDetached = Load();

        public static bool IsAvailable => VerifyDetached != null;

        public static bool Verify(byte[] publicKey, ReadOnlySpan<byte> message, ReadOnlySpan<byte> signature)
        {
            fixed (byte* pk = publicKey)
            fixed (byte* sig = signature)
            fixed (byte* m = message)
            {
                // m may be null for an empty message; libsodium reads nothing when mlen is 0.
                return VerifyDetached(sig, m, (ulong)message.Length, pk) == 0;
            }
        }

        private static delegate* unmanaged<byte*, byte*, ulong, byte*, int> Load()
        {
            string[] names = OperatingSystem.IsLinux() ? ["libsodium.so.23", "libsodium.so.26", "libsodium.so"] :
                OperatingSystem.IsMacOS() ? ["libsodium.26.dylib", "libsodium.23.dylib", "libsodium.dylib"] :
                OperatingSystem.IsWindows() ? ["libsodium.dll"] : [];
            foreach (var name in names)
            {
                if (!NativeLibrary.TryLoad(name, out var library))
                {
                    continue;
                }
                if (NativeLibrary.TryGetExport(library, "sodium_init", out var init) &&
                    NativeLibrary.TryGetExport(library, "crypto_sign_ed25519_verify_detached", out var verify) &&
                    ((delegate* unmanaged<int>)init)() >= 0)
                {
                    return (delegate* unmanaged<byte*, byte*, ulong, byte*, int>)verify;
                }
            }
            return null;
        }
    }

    /// <summary>An OpenSSL <c>EVP_PKEY</c> holding the raw Ed25519 public key.</summary>
    private sealed unsafe class OpenSslKey : SafeHandle
    {
        private const int EvpPkeyEd25519 = 1087; // NID_ED25519

        private static readonly Api? Functions = Api.Load();

        private OpenSslKey() : base(IntPtr.Zero, ownsHandle: true)
        {
        }

        public static bool IsAvailable => Functions is not null;

        public override bool IsInvalid => handle == IntPtr.Zero;

        public static OpenSslKey? TryCreate(byte[] publicKey)
        {
            if (Functions is not { } api)
            {
                return null;
            }
            var key = new OpenSslKey();
            fixed (byte* pub = publicKey)
            {
                key.SetHandle(api.NewRawPublicKey(EvpPkeyEd25519, IntPtr.Zero, pub, (nuint)publicKey.Length));
            }
            if (key.IsInvalid)
            {
                api.ClearErrors();
                key.Dispose();
                return null;
            }
            return key;
        }

        public bool Verify(ReadOnlySpan<byte> message, ReadOnlySpan<byte> signature)
        {
            var api = Functions!;
            var added = false;
            var context = IntPtr.Zero;
            try
            {
                DangerousAddRef(ref added);
                context = api.NewContext();
                if (context == IntPtr.Zero)
                {
                    throw new InvalidOperationException("EVP_MD_CTX_new failed");
                }
                if (api.DigestVerifyInit(context, IntPtr.Zero, IntPtr.Zero, IntPtr.Zero, handle) != 1)
                {
                    throw new InvalidOperationException("EVP_DigestVerifyInit failed for an Ed25519 key");
                }
                int result;
                fixed (byte* sig = signature)
                fixed (byte* tbs = message)
                {
                    // tbs may be null for an empty message; OpenSSL accepts (NULL, 0).
                    result = api.DigestVerify(context, sig, (nuint)signature.Length, tbs, (nuint)message.Length);
                }
                if (result != 1)
                {
                    api.ClearErrors(); // a bad signature leaves an error on this thread's queue
                }
                return result == 1;
            }
            finally
            {
                if (context != IntPtr.Zero)
                {
                    api.FreeContext(context);
                }
                if (added)
                {
                    DangerousRelease();
                }
            }
        }

        protected override bool ReleaseHandle()
        {
            Functions!.FreeKey(handle);
            return true;
        }

        /// <summary>The libcrypto entry points, or null when libcrypto 3 is not loadable here.</summary>
        private sealed class Api
        {
            public required delegate* unmanaged<int, IntPtr, byte*, nuint, IntPtr> NewRawPublicKey { get; init; }

            public required delegate* unmanaged<IntPtr, void> FreeKey { get; init; }

            public required delegate* unmanaged<IntPtr> NewContext { get; init; }

            public required delegate* unmanaged<IntPtr, void> FreeContext { get; init; }

            public required delegate* unmanaged<IntPtr, IntPtr, IntPtr, IntPtr, IntPtr, int> DigestVerifyInit { get; init; }

            public required delegate* unmanaged<IntPtr, byte*, nuint, byte*, nuint, int> DigestVerify { get; init; }

            public required delegate* unmanaged<void> ClearErrorQueue { get; init; }

            public void ClearErrors() => ClearErrorQueue();

            public static Api? Load()
            {
                string[] names = OperatingSystem.IsLinux() ? ["libcrypto.so.3"] :
                    OperatingSystem.IsMacOS() ? ["libcrypto.3.dylib"] : [];
                foreach (var name in names)
                {
                    if (!NativeLibrary.TryLoad(name, out var library))
                    {
                        continue;
                    }
                    if (Export(library, "EVP_PKEY_new_raw_public_key") is not { } newKey ||
                        Export(library, "EVP_PKEY_free") is not { } freeKey ||
                        Export(library, "EVP_MD_CTX_new") is not { } newContext ||
                        Export(library, "EVP_MD_CTX_free") is not { } freeContext ||
                        Export(library, "EVP_DigestVerifyInit") is not { } init ||
                        Export(library, "EVP_DigestVerify") is not { } verify ||
                        Export(library, "ERR_clear_error") is not { } clear)
                    {
                        continue;
                    }
                    return new Api
                    {
                        NewRawPublicKey = (delegate* unmanaged<int, IntPtr, byte*, nuint, IntPtr>)newKey,
                        FreeKey = (delegate* unmanaged<IntPtr, void>)freeKey,
                        NewContext = (delegate* unmanaged<IntPtr>)newContext,
                        FreeContext = (delegate* unmanaged<IntPtr, void>)freeContext,
                        DigestVerifyInit = (delegate* unmanaged<IntPtr, IntPtr, IntPtr, IntPtr, IntPtr, int>)init,
                        DigestVerify = (delegate* unmanaged<IntPtr, byte*, nuint, byte*, nuint, int>)verify,
                        ClearErrorQueue = (delegate* unmanaged<void>)clear,
                    };
                }
                return null;
            }

            private static IntPtr? Export(IntPtr library, string name) =>
                NativeLibrary.TryGetExport(library, name, out var address) ? address : null;
        }
    }
}
