using System.Runtime.InteropServices;
using Org.BouncyCastle.Crypto.Parameters;
using Org.BouncyCastle.Crypto.Signers;

namespace Tallystick.Notes;

/// <summary>
/// Ed25519 signature verification for one public key (RFC 8032, as signed notes use it). Uses the platform's OpenSSL
/// 3 (libcrypto, already loaded by .NET's own cryptography on Linux) when it is there, about three times faster than
/// the managed BouncyCastle implementation, which is the fallback everywhere else. Both give the same verdicts: the
/// tests cross-check them on published vectors, random keys and every single-bit change of signature and message.
/// Thread-safe.
/// </summary>
internal sealed class Ed25519Verification
{
    private readonly Ed25519PublicKeyParameters _managed;
    private readonly OpenSslKey? _native;

    public Ed25519Verification(byte[] publicKey, bool allowNative = true)
    {
        _managed = new Ed25519PublicKeyParameters(publicKey, 0);
        _native = allowNative ? OpenSslKey.TryCreate(publicKey) : null;
    }

    /// <summary>True when verification runs in OpenSSL rather than BouncyCastle.</summary>
    public bool IsNative => _native is not null;

    /// <summary>Checks a 64-byte signature over <paramref name="message"/>; false for any malformed signature.</summary>
    public bool Verify(ReadOnlySpan<byte> message, ReadOnlySpan<byte> signature)
    {
        if (signature.Length != NoteVerifier.SignatureSize)
        {
            return false;
        }
        if (_native is { } native)
        {
            return native.Verify(message, signature);
        }
        var verifier = new Ed25519Signer();
        verifier.Init(false, _managed);
        var bytes = message.ToArray();
        verifier.BlockUpdate(bytes, 0, bytes.Length);
        return verifier.VerifySignature(signature.ToArray());
    }

    /// <summary>An OpenSSL <c>EVP_PKEY</c> holding the raw Ed25519 public key.</summary>
    private sealed unsafe class OpenSslKey : SafeHandle
    {
        private const int EvpPkeyEd25519 = 1087; // NID_ED25519

        private static readonly Api? Functions = Api.Load();

        private OpenSslKey() : base(IntPtr.Zero, ownsHandle: true)
        {
        }

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
                if (Environment.GetEnvironmentVariable("TALLY_ED25519_MANAGED") is "1" or "true")
                {
                    return null;
                }
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
