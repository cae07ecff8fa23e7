using System.Security.Cryptography;
using Microsoft.Data.Sqlite;
using Tallystick.Notes;
using Tallystick.Server.Storage;

namespace Tallystick.Server.TransparencyLog;

/// <summary>
/// The log's origin and Ed25519 signing key. Created on first start: the key in <c>log.key</c> (mode 0600) in
/// the data directory, the origin in the database. The origin never changes afterwards: a different configured
/// origin is refused at start, because old checkpoints would no longer verify under it.
/// </summary>
internal sealed record LogIdentity(string Origin, NoteSigner Signer)
{
    public const string KeyFileName = "log.key";
    private const string OriginMetaKey = "log_origin";

    public NoteVerifier Verifier => Signer.Verifier;

    public static LogIdentity LoadOrCreate(Database database, string? configuredOrigin)
    {
        var keyPath = Path.Combine(database.DataDirectory, KeyFileName);
        using var connection = database.Open();
        var storedOrigin = Database.ReadMeta(connection, OriginMetaKey);
        if (storedOrigin is null)
        {
            return Create(connection, keyPath, configuredOrigin);
        }
        if (configuredOrigin is not null && !string.Equals(configuredOrigin, storedOrigin, StringComparison.Ordinal))
        {
            throw new InvalidOperationException(
                $"the log origin is '{storedOrigin}' and cannot change; TALLY_LOG_ORIGIN asks for '{configuredOrigin}'");
        }
        if (!File.Exists(keyPath))
        {
            throw new InvalidOperationException($"the log signing key {keyPath} is missing; restore it from backup");
        }
        var signer = NoteSigner.Parse(File.ReadAllText(keyPath).Trim());
        if (!string.Equals(signer.Name, storedOrigin, StringComparison.Ordinal))
        {
            throw new InvalidOperationException($"{keyPath} is for '{signer.Name}', but the log origin is '{storedOrigin}'");
        }
        return new LogIdentity(storedOrigin, signer);
    }

    private static LogIdentity Create(SqliteConnection connection, string keyPath, string? configuredOrigin)
    {
        var origin = configuredOrigin ?? "tallystick.local/log/" + Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(4));
        if (origin.Length == 0 || origin.Any(c => char.IsWhiteSpace(c) || c == '+'))
        {
            throw new InvalidOperationException($"log origin '{origin}' must be non-empty, without spaces or '+'");
        }
        var signer = NoteSigner.Generate(origin);
        var temporary = keyPath + ".tmp";
        File.WriteAllText(temporary, signer.PrivateKeyText + "\n");
        if (!OperatingSystem.IsWindows())
        {
            File.SetUnixFileMode(temporary, UnixFileMode.UserRead | UnixFileMode.UserWrite);
        }
        File.Move(temporary, keyPath, overwrite: true);
        Database.WriteMeta(connection, OriginMetaKey, origin);
        return new LogIdentity(origin, signer);
    }
}
