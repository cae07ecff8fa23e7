namespace Tallystick.Core.Tests.Notes;

// Signed-note and checkpoint vectors from test-vectors.md §2 (C2SP signed-note, golang.org/x/mod sumdb/note,
// transparency-dev/formats). These are public test keys: never use them for anything real.
internal static class NoteVectors
{
    public const string PeterPrivateKey =
        "PRIVATE+KEY+PeterNeumann+c74f20a3+AYEKFALVFGyNhPJEMzD1QIDr+Y7hfZx09iUvxdXHKDFz";
    public const string PeterVkey = "PeterNeumann+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW";
    public const string PeterPublicKeyHex = "1a5cd907143c384c41e830c5bce12aa8817ec5649aaabf2c31388b35b2d744d6";
    public const string EnochVkey = "EnochRoot+af0cfe78+ATtqJ7zOtqQtYqOo0CpvDXNlMhV3HeJDpjrASKGLWdop";

    public const string PeterText =
        "If you think cryptography is the answer to your problem,\nthen you don't know what your problem is.\n";

    public const string PeterSignatureLine =
        "— PeterNeumann "
        + "x08go/ZJkuBS9UG/SffcvIAQxVBtiFupLLr8pAcElZInNIuGUgYN1FFYC2pZSNXgKvqfqdngotpRZb6KE6RyyBwJnAM=\n";

    public const string EnochSignatureLine =
        "— EnochRoot "
        + "rwz+eBzmZa0SO3NbfRGzPCpDckykFXSdeX+MNtCOXm2/5n2tiOHp+vAF1aGrQ5ovTG01oOTGwnWLox33WWd1RvMc+QQ=\n";

    public const string PeterNote = PeterText + "\n" + PeterSignatureLine;

    public const string SpecVkey = "example.com/foo+530d903a+AekyeRrm56hApGFkyQR4ZCbV54Id2LKaANYcrnKv3U2k";
    public const string SpecPublicKeyHex = "e932791ae6e7a840a46164c904786426d5e7821dd8b29a00d61cae72afdd4da4";

    public const string SpecNote = """
        This is an example message.

        — example.com/foo Uw2QOkn8srV1yJGh2VYRlL1Tnagv1YEq6TfXppzi2ONncAlTgK7Ztg1ERYNZXsYjOBH3mFXmRKuwHjG1Yu72IneyaQM=

        """;

    public const string SumDbVkey = "sum.golang.org+033de0ae+Ac4zctda0e5eza+HJyk9SxEdh+s3Ux18htTTAD8OuAn8";
    public const string SumDbPublicKeyHex = "ce3372d75ad1ee5ecdaf8727293d4b111d87eb37531d7c86d4d3003f0eb809fc";

    public const string SumDbCheckpoint = """
        go.sum database tree
        6476701
        mb8QLQIs0Z0yP5Cstq6guj87oXWeC9gEM8oVikmm9Wk=

        — sum.golang.org Az3grsLX85Gz+s1SiTbgkuqxgItqFq7gsMUEyVnrsa9LM7Us9S+1xbFIGu95949rj4nPRYfvimWEPWL+o3GeoWwOoAw=

        """;

    public const string SumDbRootHex = "99bf102d022cd19d323f90acb6aea0ba3f3ba1759e0bd80433ca158a49a6f569";

    // COMPUTED in test-vectors.md §2.6: the 8-leaf root signed by the PeterNeumann key.
    public const string PeterCheckpoint = """
        PeterNeumann
        8
        XcnaeacGWamtVZy3Ad7ZoqudgjqtL0lgz+Nw7/RgQyg=

        — PeterNeumann x08gozdSgLMzAnw63LH1RGViJhUfW60EUGKY7Kmr004fQNOSqfrcd1hIk3BCtdcLWIqvGtX67sL24VN+44uTlxMnbAA=

        """;

    public const string LogPrivateKey = "PRIVATE+KEY+Log+2271c621+AdEIq9FLRQni54Wg68T96VJO+iayOaulswav2DUMKgvQ";
    public const string LogVkey = "Log+2271c621+AemuH5ooBpEPcr+W8onrjA1NfuzBVHdezakU81Ekarvs";
    public const string KnownVkey = "Known+451c786d+AXAQ0T7lbwuY4ABJ9/MYY9bWV3hmSyOGVt2x42NkmdUH";
}
