using System.Security.Cryptography;
using System.Text;
using System.Text.RegularExpressions;

namespace Tallystick.Server.Tenants;

/// <summary>
/// An API key: <c>pk_test_&lt;publicId&gt;.&lt;secret&gt;</c> or <c>pk_live_…</c>. The public id locates the key;
/// only SHA-256 of the whole key string is stored, and it is compared in constant time.
/// </summary>
internal sealed partial record ApiKey(string Environment, string PublicId, string Secret)
{
    public const int PublicIdChars = 16;
    public const int SecretChars = 40;
    private const string Alphabet = "abcdefghijklmnopqrstuvwxyz0123456789";
    private const string SecretAlphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";

    public string FullKey => $"pk_{Environment}_{PublicId}.{Secret}";

    public byte[] SecretHash() => Hash(FullKey);

    public static byte[] Hash(string fullKey) => SHA256.HashData(Encoding.UTF8.GetBytes(fullKey));

    /// <summary>Parses a presented key; null when it does not have the key shape.</summary>
    public static ApiKey? TryParse(string? text)
    {
        if (text is null || text.Length > 256)
        {
            return null;
        }
        var match = KeyPattern().Match(text);
        return match.Success ? new ApiKey(match.Groups[1].Value, match.Groups[2].Value, match.Groups[3].Value) : null;
    }

    public static ApiKey Generate(string environment) =>
        new(environment, RandomString(Alphabet, PublicIdChars), RandomString(SecretAlphabet, SecretChars));

    public static bool IsEnvironment(string value) => value is "test" or "live";

    private static string RandomString(string alphabet, int length)
    {
        var chars = new char[length];
        for (var i = 0; i < length; i++)
        {
            chars[i] = alphabet[RandomNumberGenerator.GetInt32(alphabet.Length)];
        }
        return new string(chars);
    }

    // Secrets of bootstrap keys are chosen by operators: at least 16 characters keeps them unguessable.
    [GeneratedRegex("^pk_(test|live)_([A-Za-z0-9]{4,64})\\.([A-Za-z0-9_-]{16,128})$", RegexOptions.CultureInvariant)]
    private static partial Regex KeyPattern();
}
