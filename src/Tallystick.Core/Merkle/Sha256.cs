using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;

namespace Tallystick.Merkle;

/// <summary>
/// One-shot SHA-256 (FIPS 180-4) for the short inputs Merkle trees hash millions of times: a leaf or an interior node
/// is one or two blocks. <see cref="System.Security.Cryptography.SHA256.HashData(ReadOnlySpan{byte}, Span{byte})"/>
/// costs ≈ 800 ns here for 65 bytes, nearly all of it OpenSSL 3's per-call <c>EVP</c> set-up; OpenSSL's low-level
/// <c>SHA256_Init/Update/Final</c> (the same SHA-NI/AVX2 block code, no set-up) take ≈ 100 ns. This class calls those
/// when libcrypto 3 exports them and falls back to the .NET one-shot everywhere else; both produce identical digests
/// (the tests cross-check every length from 0 to 1,000 bytes and the FIPS 180-4 vectors).
/// <c>TALLY_SHA256=dotnet</c> forces the fallback. Thread-safe; allocates nothing.
/// </summary>
public static class Sha256
{
    /// <summary>Length of a digest in bytes.</summary>
    public const int HashSize = 32;

    private static readonly Native? Fast = Native.Load();

    /// <summary>True when the low-level OpenSSL functions are in use (false means the .NET one-shot).</summary>
    public static bool IsNative => Fast is not null;

    /// <summary>Writes <c>SHA-256(<paramref name="data"/>)</c> to the first 32 bytes of
    /// <paramref name="destination"/>, which may overlap <paramref name="data"/> only if the whole input has been
    /// consumed first (it is: the digest is written last).</summary>
    /// <exception cref="ArgumentException"><paramref name="destination"/> is shorter than 32 bytes.</exception>
    public static void Hash(ReadOnlySpan<byte> data, Span<byte> destination)
    {
        if (destination.Length < HashSize)
        {
            throw new ArgumentException($"destination has {destination.Length} bytes, need {HashSize}",
                nameof(destination));
        }
        if (Fast is { } fast)
        {
            fast.Hash(data, destination);
        }
        else
        {
            System.Security.Cryptography.SHA256.HashData(data, destination);
        }
    }

    /// <summary>Returns <c>SHA-256(<paramref name="data"/>)</c> in a new array.</summary>
    public static byte[] Hash(ReadOnlySpan<byte> data)
    {
        var digest = new byte[HashSize];
        Hash(data, digest);
        return digest;
    }

    /// <summary>Computes with the .NET one-shot regardless of <see cref="IsNative"/> (the tests' oracle).</summary>
    internal static void HashManaged(ReadOnlySpan<byte> data, Span<byte> destination) =>
        System.Security.Cryptography.SHA256.HashData(data, destination);

    /// <summary>OpenSSL's <c>SHA256_CTX</c>: 8 + 2 + 16 + 2 words (112 bytes); 128 leaves room.</summary>
    [InlineArray(128)]
    private struct Context
    {
        private byte _first;
    }

    /// <summary>libcrypto's <c>SHA256_Init</c>, <c>SHA256_Update</c>, <c>SHA256_Final</c>. They run for about 100 ns,
    /// never block and never call back, so the calls skip the GC transition.</summary>
    private sealed unsafe class Native
    {
        private readonly delegate* unmanaged[SuppressGCTransition]<byte*, int> _init;
        private readonly delegate* unmanaged[SuppressGCTransition]<byte*, byte*, nuint, int> _update;
        private readonly delegate* unmanaged[SuppressGCTransition]<byte*, byte*, int> _final;

        private Native(IntPtr init, IntPtr update, IntPtr final)
        {
            _init = (delegate* unmanaged[SuppressGCTransition]<byte*, int>)init;
            _update = (delegate* unmanaged[SuppressGCTransition]<byte*, byte*, nuint, int>)update;
            _final = (delegate* unmanaged[SuppressGCTransition]<byte*, byte*, int>)final;
        }

        public void Hash(ReadOnlySpan<byte> data, Span<byte> destination)
        {
            Context context = default;
            fixed (byte* input = data)
            fixed (byte* output = destination)
            {
                byte* state = (byte*)Unsafe.AsPointer(ref context[0]);
                // Each returns 1; they cannot fail on a valid context and a non-null output.
                _init(state);
                _update(state, input, (nuint)data.Length);
                _final(output, state);
            }
        }

        public static Native? Load()
        {
            if (Environment.GetEnvironmentVariable("TALLY_SHA256")?.Trim().ToLowerInvariant() == "dotnet")
            {
                return null;
            }
            string[] names = OperatingSystem.IsLinux() ? ["libcrypto.so.3"] :
                OperatingSystem.IsMacOS() ? ["libcrypto.3.dylib"] : [];
            foreach (var name in names)
            {
                if (NativeLibrary.TryLoad(name, out var library) &&
                    NativeLibrary.TryGetExport(library, "SHA256_Init", out var init) &&
                    NativeLibrary.TryGetExport(library, "SHA256_Update", out var update) &&
                    NativeLibrary.TryGetExport(library, "SHA256_Final", out var final))
                {
                    var native = new Native(init, update, final);
                    return native.SelfTest() ? native : null;
                }
            }
            return null;
        }

        // A library whose exports do not behave as OpenSSL's (a different ABI) is not used.
        private bool SelfTest()
        {
            ReadOnlySpan<byte> abc = "abc"u8;
            Span<byte> digest = stackalloc byte[HashSize];
            Hash(abc, digest);
            return digest.SequenceEqual(Convert.FromHexString(
                "BA7816BF8F01CFEA414140DE5DAE2223B00361A396177A9CB410FF61F20015AD"));
        }
    }
}
