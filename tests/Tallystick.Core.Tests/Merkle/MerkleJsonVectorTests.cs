using System.Text.Json;
using Tallystick.Merkle;

namespace Tallystick.Core.Tests.Merkle;

// Goal: the language-neutral happy-path files of transparency-dev/merkle testdata/{inclusion,consistency}/<n>/
// verify here too. Method: each file's fields, as quoted in test-vectors.md §1.4–§1.5, are embedded as JSON,
// deserialised, verified, and the proof is regenerated from the standard leaves and compared.
public sealed class MerkleJsonVectorTests
{
    public static TheoryData<string> InclusionFiles => new()
    {
        """
        {
          "leafIdx": 0,
          "treeSize": 1,
          "root": "bjQLnP+zepicpUTmu3gKLHiQHT+zNzh2hRGjBhevoB0=",
          "leafHash": "bjQLnP+zepicpUTmu3gKLHiQHT+zNzh2hRGjBhevoB0=",
          "proof": null
        }
        """,
        """
        {
          "leafIdx": 0,
          "treeSize": 8,
          "root": "XcnaeacGWamtVZy3Ad7ZoqudgjqtL0lgz+Nw7/RgQyg=",
          "leafHash": "bjQLnP+zepicpUTmu3gKLHiQHT+zNzh2hRGjBhevoB0=",
          "proof": [
            "lqKW0iTyhcZ77pPDD4owkVfw2qNdxbh+QQt4YwoJz8c=",
            "Xwg/ChozygdqlSeYMlgNs+DvRYS9/x9UyKNg9Q3jAx4=",
            "a0eq8p7jwq+a+Im8H7klTavTEXfxYjLdaqsDXKOb9uQ="
          ],
          "desc": "happy path",
          "wantErr": false
        }
        """,
        """
        {
          "leafIdx": 5,
          "treeSize": 8,
          "root": "XcnaeacGWamtVZy3Ad7ZoqudgjqtL0lgz+Nw7/RgQyg=",
          "leafHash": "QnGia+DYqE8L1UyMMC58s6O10fpngKQLzOKHNHfatlg=",
          "proof": [
            "vBoGQ7EuTS18d5GPROD095qDi2z57FtcKD4fTYhZnms=",
            "yoVOoSjtBQtBs1/8G4e46yveRh6eO1WW7Oa51ZdaCuA=",
            "037kGJdt2VdTwcc4Yrk5j6Kiz5tP8P3+izDNlSCWFLc="
          ]
        }
        """,
        """
        {
          "leafIdx": 2,
          "treeSize": 3,
          "root": "rra8/idLcKFPsGel5VeCZNsPqbUa9eC6FZFY8yngbnc=",
          "leafHash": "ApjRIpBtz8EIkstTpzmS/FufST6kybrbJ7eRtBJ6f+c=",
          "proof": [
            "+sVCA+fMaWzw38tCySodnbr3CtnmIfS9jZhmLwDjwSU="
          ]
        }
        """,
        """
        {
          "leafIdx": 1,
          "treeSize": 5,
          "root": "Tju7H3tHjc/nH7YxYxUZo7yhLJrvyhYSv85ME6hiZNQ=",
          "leafHash": "lqKW0iTyhcZ77pPDD4owkVfw2qNdxbh+QQt4YwoJz8c=",
          "proof": [
            "bjQLnP+zepicpUTmu3gKLHiQHT+zNzh2hRGjBhevoB0=",
            "Xwg/ChozygdqlSeYMlgNs+DvRYS9/x9UyKNg9Q3jAx4=",
            "vBoGQ7EuTS18d5GPROD095qDi2z57FtcKD4fTYhZnms="
          ]
        }
        """,
    };

    public static TheoryData<string> ConsistencyFiles => new()
    {
        """
        {
          "size1": 1,
          "size2": 1,
          "root1": "bjQLnP+zepicpUTmu3gKLHiQHT+zNzh2hRGjBhevoB0=",
          "root2": "bjQLnP+zepicpUTmu3gKLHiQHT+zNzh2hRGjBhevoB0=",
          "proof": null
        }
        """,
        """
        {
          "size1": 1,
          "size2": 8,
          "root1": "bjQLnP+zepicpUTmu3gKLHiQHT+zNzh2hRGjBhevoB0=",
          "root2": "XcnaeacGWamtVZy3Ad7ZoqudgjqtL0lgz+Nw7/RgQyg=",
          "proof": [
            "lqKW0iTyhcZ77pPDD4owkVfw2qNdxbh+QQt4YwoJz8c=",
            "Xwg/ChozygdqlSeYMlgNs+DvRYS9/x9UyKNg9Q3jAx4=",
            "a0eq8p7jwq+a+Im8H7klTavTEXfxYjLdaqsDXKOb9uQ="
          ]
        }
        """,
        """
        {
          "size1": 6,
          "size2": 8,
          "root1": "duZ9rbzfHhDht03cYIq9L5jfsW+851J3tSMqEn8gh+8=",
          "root2": "XcnaeacGWamtVZy3Ad7ZoqudgjqtL0lgz+Nw7/RgQyg=",
          "proof": [
            "DrxdNDf74tsVi58Sah0RjjCBgQMdCpSfje3t68VY72o=",
            "yoVOoSjtBQtBs1/8G4e46yveRh6eO1WW7Oa51ZdaCuA=",
            "037kGJdt2VdTwcc4Yrk5j6Kiz5tP8P3+izDNlSCWFLc="
          ]
        }
        """,
        """
        {
          "size1": 2,
          "size2": 5,
          "root1": "+sVCA+fMaWzw38tCySodnbr3CtnmIfS9jZhmLwDjwSU=",
          "root2": "Tju7H3tHjc/nH7YxYxUZo7yhLJrvyhYSv85ME6hiZNQ=",
          "proof": [
            "Xwg/ChozygdqlSeYMlgNs+DvRYS9/x9UyKNg9Q3jAx4=",
            "vBoGQ7EuTS18d5GPROD095qDi2z57FtcKD4fTYhZnms="
          ]
        }
        """,
        """
        {
          "size1": 6,
          "size2": 7,
          "root1": "duZ9rbzfHhDht03cYIq9L5jfsW+851J3tSMqEn8gh+8=",
          "root2": "3bib5AOAnjJXUNPSY814kpwpQreUKjS3fhIslZSnTIw=",
          "proof": [
            "DrxdNDf74tsVi58Sah0RjjCBgQMdCpSfje3t68VY72o=",
            "sIaT7C5yFZcTBkHoIR5+7cy0wmQTlj7ubB4u0W/7Gl8=",
            "037kGJdt2VdTwcc4Yrk5j6Kiz5tP8P3+izDNlSCWFLc="
          ]
        }
        """,
    };

    [Theory]
    [MemberData(nameof(InclusionFiles))]
    public void VerifyInclusion_HappyPathFile_IsValidAndRegenerates(string json)
    {
        using var doc = JsonDocument.Parse(json);
        var root = doc.RootElement;
        long index = root.GetProperty("leafIdx").GetInt64();
        long size = root.GetProperty("treeSize").GetInt64();
        var leafHash = root.GetProperty("leafHash").GetBytesFromBase64();
        var proof = Proof(root.GetProperty("proof"));
        var treeRoot = root.GetProperty("root").GetBytesFromBase64();

        HashAssert.Valid(MerkleProof.VerifyInclusion(index, size, leafHash, proof, treeRoot), json);
        HashAssert.Equal(MerkleVectors.Root(size), treeRoot, "root is table 1.3");
        HashAssert.Equal(proof, MerkleTree.InclusionPath(MerkleVectors.LeafHashes((int)size), index), json);
    }

    [Theory]
    [MemberData(nameof(ConsistencyFiles))]
    public void VerifyConsistency_HappyPathFile_IsValidAndRegenerates(string json)
    {
        using var doc = JsonDocument.Parse(json);
        var root = doc.RootElement;
        long size1 = root.GetProperty("size1").GetInt64();
        long size2 = root.GetProperty("size2").GetInt64();
        var root1 = root.GetProperty("root1").GetBytesFromBase64();
        var root2 = root.GetProperty("root2").GetBytesFromBase64();
        var proof = Proof(root.GetProperty("proof"));

        HashAssert.Valid(MerkleProof.VerifyConsistency(size1, size2, root1, root2, proof), json);
        HashAssert.Equal(proof, MerkleTree.ConsistencyProof(MerkleVectors.LeafHashes((int)size2), size1), json);
    }

    private static byte[][] Proof(JsonElement proof) =>
        proof.ValueKind == JsonValueKind.Null ? [] : [.. proof.EnumerateArray().Select(e => e.GetBytesFromBase64())];
}
