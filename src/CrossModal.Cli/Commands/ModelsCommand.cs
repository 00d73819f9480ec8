using System.CommandLine;
using System.Text.Json.Nodes;
using CrossModal.Models;

namespace CrossModal.Cli.Commands;

/// <summary>
/// `crossmodal models [--json]`: every registered model family with what it needs, its configuration and training
/// defaults (the original flag names) and its published presets, so a user can see what `train --model X` will do.
/// </summary>
internal static class ModelsCommand
{
    public static Command Create()
    {
        var json = new Option<bool>("--json") { Description = "print one JSON object instead of text" };
        var cmd = new Command("models", "List the model families, their defaults (original flag names) and their published presets.");
        cmd.Options.Add(json);
        cmd.SetAction(p =>
        {
            if (p.GetValue(json))
            {
                var all = new JsonArray();
                foreach (var f in ModelFamilies.All)
                    all.Add(new JsonObject
                    {
                        ["model"] = f.Name,
                        ["description"] = f.Description,
                        ["task"] = f.Task.ToString(),
                        ["image_features"] = f.ImageFeatures.ToString(),
                        ["validation"] = ConfigJson.EnumName(f.ValidationMeasure),
                        ["config"] = f.DefaultConfig.ToJsonObject(),
                        ["recipe"] = JsonNode.Parse(f.DefaultRecipe.ToJson()),
                        ["presets"] = new JsonArray(f.Presets.Select(x => (JsonNode)new JsonObject
                        {
                            ["name"] = x.Name,
                            ["description"] = x.Description,
                            ["config"] = x.Config(f.DefaultConfig).ToJsonObject(),
                            ["recipe"] = JsonNode.Parse(x.Recipe(f.DefaultRecipe).ToJson()),
                        }).ToArray()),
                    });
                Console.WriteLine(all.ToJsonString());
                return 0;
            }
            foreach (var f in ModelFamilies.All)
            {
                Console.WriteLine($"{f.Name}: {f.Description}");
                Console.WriteLine($"  data: {f.Task}-level, image features: {f.ImageFeatures}; best model by {ConfigJson.EnumName(f.ValidationMeasure)}");
                Console.WriteLine($"  defaults: {f.DefaultConfig.ToJson()}");
                Console.WriteLine($"  recipe:   {f.DefaultRecipe.ToJson()}");
                foreach (var x in f.Presets) Console.WriteLine($"  --preset {x.Name,-20} {x.Description}");
                Console.WriteLine();
            }
            return 0;
        });
        return cmd;
    }
}
