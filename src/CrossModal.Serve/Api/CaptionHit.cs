namespace CrossModal.Serve.Api;

/// <summary>One gallery caption found by an image query.</summary>
/// <param name="CaptionId">Index of the caption in the gallery.</param>
/// <param name="Text">The caption.</param>
/// <param name="ImageId">The gallery image it describes (-1 when it is not in the gallery).</param>
/// <param name="ImageName">That image's file name.</param>
/// <param name="Score">The model's score for the uploaded image and this caption.</param>
/// <param name="Thumbnail">URL of the image the caption describes (null when that image is not in the gallery).</param>
public sealed record CaptionHit(int CaptionId, string Text, int ImageId, string ImageName, float Score, string? Thumbnail);
